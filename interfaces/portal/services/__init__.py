"""Every write of the guest portal; its views call only these (P1–P3).

Login codes go out through ``channels_out.message_send`` as service SMS (no marketing
consent needed); confirmation mails likewise. Consent changes are appended through
``guest_record_consent`` with the portal's source and the wording version the guest saw.
Each refusal is a ``PortalError`` whose ``code`` names the rule and whose message is in
the active language, for the guest to read.
"""

from .common import SOURCE, PortalError
from .details import (
    ContactChange,
    contact_details_update,
    email_confirm,
    email_confirmation_request,
    phone_change_confirm,
    phone_change_request,
)
from .login import login_code_request, login_code_verify, login_codes_purge, login_link_use
from .stay import companion_add, consents_update
from .unsubscribe import marketing_resubscribe, marketing_unsubscribe, unsubscribe_token_guest

__all__ = [
    "SOURCE",
    "ContactChange",
    "PortalError",
    "companion_add",
    "consents_update",
    "contact_details_update",
    "email_confirm",
    "email_confirmation_request",
    "login_code_request",
    "login_code_verify",
    "login_codes_purge",
    "login_link_use",
    "marketing_resubscribe",
    "marketing_unsubscribe",
    "phone_change_confirm",
    "phone_change_request",
    "unsubscribe_token_guest",
]
