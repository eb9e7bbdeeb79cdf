"""The sender layer's screens: the send log and unknown outcomes (operators), credits (manager)
and the live message counter, with the provider callbacks in URL namespace ``channels_out``."""
