from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "crm_messaging.ops"
    label = "ops"
    verbose_name = "Operations"
