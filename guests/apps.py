from django.apps import AppConfig


class GuestsConfig(AppConfig):
    name = "guests"
    label = "guests"
    verbose_name = "Guests and reservations"
