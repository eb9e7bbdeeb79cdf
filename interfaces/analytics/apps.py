from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "interfaces.analytics"
    label = "analytics"
    verbose_name = "Campaign analytics"
