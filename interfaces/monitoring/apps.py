from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "interfaces.monitoring"
    label = "monitoring"
    verbose_name = "Monitoring"

    def ready(self) -> None:
        from . import access, receivers

        receivers.connect()
        access.allowed_networks()  # a malformed METRICS_ALLOWED_ADDRESSES stops start-up
