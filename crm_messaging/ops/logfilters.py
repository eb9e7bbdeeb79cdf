"""Log filters for the site's own loggers (configured in settings.LOGGING)."""

from __future__ import annotations

import logging
import re

from django.http import HttpRequest

from .redaction import redact_url

# An address in a log line: a path (``/guest/…``), with its query, or a whole URL.
_ADDRESS = re.compile(r"(?:[a-zA-Z][a-zA-Z0-9+.-]*://[^\s/'\"<>]*)?/[^\s'\"<>]*")


def _redacted(text: str) -> str:
    return _ADDRESS.sub(lambda match: redact_url(match.group()), text)


class SecretsMasked(logging.Filter):
    """No secret of an address (a sign-in link's token, the Mews webhook's ``token=``) in a
    request logger's line (``django.request``: ``Bad Request: /guest/login/link/••••••/``;
    ``django.server``: the request line), masked by ``redaction.redact_url``.

    The request Django attaches to its record (``record.request``, which the JSON format
    writes out with its full path) becomes its masked description.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = _redacted(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(
                _redacted(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        request = getattr(record, "request", None)
        if isinstance(request, HttpRequest):
            record.request = _redacted(repr(request))
        return True


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
