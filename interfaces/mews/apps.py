from django.apps import AppConfig


class MewsConfig(AppConfig):
    name = "interfaces.mews"
    label = "mews"
    verbose_name = "Mews connector"
