from django.apps import AppConfig


class FrontDeskConfig(AppConfig):
    name = "interfaces.frontdesk"
    label = "frontdesk"
    verbose_name = "Front-desk screens"
