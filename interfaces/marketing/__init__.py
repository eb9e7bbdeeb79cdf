"""Marketing screens: campaigns, their audience, sends, runs and approvals (URL namespace
``campaigns``)."""
