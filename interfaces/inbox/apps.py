from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "interfaces.inbox"
    label = "inbox"
    verbose_name = "Guest conversations"

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects the inbound-message receiver)
