from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "interfaces.imports"
    label = "imports"
    verbose_name = "Imports (CSV/XLSX)"
