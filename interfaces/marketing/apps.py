from django.apps import AppConfig


class MarketingConfig(AppConfig):
    name = "interfaces.marketing"
    label = "marketing"
    verbose_name = "Campaign screens"
