from django.apps import AppConfig

from guests.links import guest_links_register


class PortalConfig(AppConfig):
    name = "interfaces.portal"
    label = "portal"
    verbose_name = "Guest portal"

    def ready(self) -> None:
        # links imports the guests' models, which exist only once the app registry is ready.
        from . import links

        guest_links_register(links)
