"""What the staff screens keep for themselves: the claim of each form submitted (``once``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Submission(models.Model):
    """One staff form that was sent and did its work, claimed by the key it was shown with.

    The unique ``key`` is the guarantee: a second POST of the same form (a double click, two
    tabs, a refresh) cannot claim it again, so it writes nothing and goes to ``landing``, the
    page the first one went to. Kept, not cleaned up: a form left open for days and sent
    again still finds its claim.
    """

    key = models.CharField(max_length=32, unique=True)
    form = models.CharField(max_length=100, help_text="Which form, and for which object.")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    landing = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.form} ({self.key})"
