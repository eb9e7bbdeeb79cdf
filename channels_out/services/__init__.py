"""Every write of the sender layer; views, admin, commands, tasks and campaigns call these."""

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

__all__ = [
    "MessageRequest",
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
]
