"""Log filters for the site's own loggers (configured in settings.LOGGING)."""

from __future__ import annotations

import logging


class RefusalWithoutTraceback(logging.Filter):
    """Keep a refused request (a 4xx Django logs with the exception) to its one line.

    Django logs a PermissionDenied (403) or a bad request (400) on ``django.request`` with the
    exception attached, so every refusal printed a whole traceback and buried the real errors.
    A refusal is expected behaviour: its line (method, path, status) stays, the traceback
    goes. A 5xx keeps its traceback.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and 400 <= status < 500:
            record.exc_info = None
            record.exc_text = None
        return True
