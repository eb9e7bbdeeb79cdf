"""Every write of the sender layer; views, admin, commands, tasks and campaigns call these."""

from .email_replies import InboundEmail, email_reply_receive
from .forecast import Outcome, SendForecast, message_forecast_many
from .holds import message_send_now, messages_retime_quiet_hours
from .inbound import inbound_link_guest, inbound_receive
from .mailboxes import mailbox_poll, mailboxes_poll
from .messages import (
    MessageRequest,
    Step,
    default_account,
    message_fall_back,
    message_send,
    message_send_many,
)
from .status import (
    StatusChange,
    message_apply_status,
    message_apply_statuses,
    message_mark_sent,
    message_resend,
    messages_resume_after_topup,
)
from .suppression import (
    soft_bounce_record,
    suppression_add,
    suppression_clear,
    suppressions_clear_confirmed,
)

__all__ = [
    "InboundEmail",
    "email_reply_receive",
    "inbound_link_guest",
    "inbound_receive",
    "mailbox_poll",
    "mailboxes_poll",
    "MessageRequest",
    "Outcome",
    "SendForecast",
    "message_forecast_many",
    "message_send_now",
    "messages_retime_quiet_hours",
    "Step",
    "message_send_many",
    "default_account",
    "StatusChange",
    "message_apply_status",
    "message_apply_statuses",
    "message_fall_back",
    "message_mark_sent",
    "message_resend",
    "message_send",
    "messages_resume_after_topup",
    "soft_bounce_record",
    "suppression_add",
    "suppression_clear",
    "suppressions_clear_confirmed",
]
