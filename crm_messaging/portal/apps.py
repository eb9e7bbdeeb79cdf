from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "crm_messaging.portal"
    label = "portal"
    verbose_name = "Guest portal"
