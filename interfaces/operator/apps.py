from django.apps import AppConfig


class OperatorConfig(AppConfig):
    name = "interfaces.operator"
    label = "operator"
    verbose_name = "Send log and credit screens"
