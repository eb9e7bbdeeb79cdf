from django.apps import AppConfig


class ChannelsOutConfig(AppConfig):
    name = "channels_out"
    verbose_name = "Sending: accounts, send log and credits"

    def ready(self) -> None:
        # The system checks and the balance alerts register themselves when imported.
        from . import checks, receivers  # noqa: F401
