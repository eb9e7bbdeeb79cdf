from django.apps import AppConfig


class GuestsConfig(AppConfig):
    name = "crm_messaging.guests"
    label = "guests"
    verbose_name = "Guests and reservations"
