from django.apps import AppConfig


class ChannelsOutConfig(AppConfig):
    name = "channels_out"
    verbose_name = "Sending: accounts, send log and credits"

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the system checks
