"""The guest portal's pages, re-exported for the URL conf."""

from .exports import ConsentHistoryExportView, NewsletterExportView
from .login import login_code_view, login_link_view, login_view, logout_view
from .page import (
    companion_view,
    confirm_email_view,
    confirm_phone_view,
    consents_view,
    contact_view,
    home_view,
)
from .unsubscribe import unsubscribe_one_click_view, unsubscribe_view

__all__ = [
    "ConsentHistoryExportView",
    "NewsletterExportView",
    "companion_view",
    "confirm_email_view",
    "confirm_phone_view",
    "consents_view",
    "contact_view",
    "home_view",
    "login_code_view",
    "login_link_view",
    "login_view",
    "logout_view",
    "unsubscribe_one_click_view",
    "unsubscribe_view",
]
