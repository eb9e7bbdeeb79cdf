from django.apps import AppConfig


class UiConfig(AppConfig):
    name = "crm_messaging.ui"
    label = "ui"
    verbose_name = "Staff screens"
