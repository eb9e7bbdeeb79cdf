from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = "Campaigns"

    def ready(self) -> None:
        # These import the models, which exist only once the app registry is ready.
        from channels_out.origins import origin_kind_register

        from . import attribution, triggers  # noqa: F401  (connects the signal receivers)
        from .models import CampaignRun

        # The credits report groups a run's messages by its campaign.
        origin_kind_register(CampaignRun, label=lambda run: run.report_label, related=("campaign",))
