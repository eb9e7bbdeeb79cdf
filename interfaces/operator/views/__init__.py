"""Staff screens of the sender layer: the send log for operators, credits for the manager, the
live message counter the other screens embed.

Every write goes through ``channels_out.services``; every read of the ledger through
``channels_out.selectors``.
"""

from .credits import (
    CreditInvoiceView,
    CreditOrderCancelView,
    CreditOrderCreateView,
    CreditOrderMarkPaidView,
    CreditsView,
)
from .export import MessageExportView
from .log import (
    MarkSentView,
    MessageDetailView,
    MessageListView,
    MessageRowsView,
    ResendView,
    SendNowView,
    UnknownQueueView,
)
from .meter import meter

__all__ = [
    "CreditInvoiceView",
    "CreditOrderCancelView",
    "CreditOrderCreateView",
    "CreditOrderMarkPaidView",
    "CreditsView",
    "MarkSentView",
    "SendNowView",
    "MessageDetailView",
    "MessageExportView",
    "MessageListView",
    "MessageRowsView",
    "ResendView",
    "UnknownQueueView",
    "meter",
]
