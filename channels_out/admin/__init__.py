"""The Django admin of the sender layer: accounts, the send log, prices, credits, house rules.

The send log, delivery events, inbound messages, the balance and the ledger are records:
read-only here. Operator decisions on a message (it went out / send it again) and credit
orders (order, paid, cancelled) are admin actions that call ``channels_out.services``; a
refusal is shown as an error message next to the others' successes. Account secrets are
write-only (``ChannelAccountForm``).

Importing this package registers every admin class.
"""

from . import accounts, credits, email, log, mailboxes

__all__ = ["accounts", "credits", "email", "log", "mailboxes"]
