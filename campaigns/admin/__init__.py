"""The Django admin of the campaign engine: campaigns, runs, trigger events, settings.

Campaign definitions are checked where staff type them (``definition_errors`` next to the
field, ``validate_variant`` next to the template, with its line); what keeps a saved draft
from sending (``plan_errors``) is shown as warnings. Sending, approving and rejecting are
actions calling ``campaigns.services``; runs and trigger events are read-only records.
Importing this package registers every admin class.
"""

from . import campaigns, runs

__all__ = ["campaigns", "runs"]
