from django.apps import AppConfig
from django.urls import register_converter


class OpsConfig(AppConfig):
    name = "crm_messaging.ops"
    label = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from .redaction import SecretConverter

        # ``<secret:token>`` in the URL patterns: a segment every log masks (``redaction``).
        register_converter(SecretConverter, "secret")
