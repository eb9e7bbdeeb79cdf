from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "interfaces.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from . import receivers

        receivers.connect()
