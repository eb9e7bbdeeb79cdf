"""Signals the campaign engine sends, for the layers above (webhooks).

Sent inside the transaction that made the change, so a receiver may write rows that commit or
roll back with it; receivers only schedule other work with ``transaction.on_commit``.
"""

from django.dispatch import Signal

# run=CampaignRun: every chunk of the run is done (sent once per run).
campaign_run_finished = Signal()
