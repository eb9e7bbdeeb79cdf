from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "interfaces.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from . import addresses, receivers

        receivers.connect()
        addresses.allowed_private_networks()  # a malformed setting stops start-up
