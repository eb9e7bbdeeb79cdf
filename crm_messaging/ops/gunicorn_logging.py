"""gunicorn's access log without secrets (``logger_class`` in ``gunicorn.conf.py``).

gunicorn's access line carries the request line (``%(r)s``), which has the whole address: a
guest's sign-in link, the Mews webhook's ``?token=…``. Every atom of the line that holds an
address — the request line, path, query, referrer, a redirect's ``Location`` and their
``{…}i``/``{…}e``/``{…}o`` forms — goes through ``redaction.redact_url``; the rest (method,
status, size, time) is gunicorn's own.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from gunicorn.glogging import Logger

from .redaction import redact_query_string, redact_url

# Atoms holding an address (a path, a path and query, or a URL), besides the request line.
_ADDRESS_ATOMS = (
    "U",
    "f",
    "{referer}i",
    "{location}o",
    "{raw_uri}e",
    "{path_info}e",
    "{http_referer}e",
)
# Atoms holding a query string alone.
_QUERY_ATOMS = ("q", "{query_string}e")


class RedactingLogger(Logger):  # type: ignore[misc]  # gunicorn has no type hints
    """gunicorn's logger, its access-log atoms masked by ``redaction.redact_url``."""

    def atoms(
        self, resp: Any, req: Any, environ: dict[str, Any], request_time: timedelta
    ) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        atoms["r"] = "{} {} {}".format(
            environ.get("REQUEST_METHOD"),
            redact_url(str(environ.get("RAW_URI", ""))),
            environ.get("SERVER_PROTOCOL"),
        )
        for key in _ADDRESS_ATOMS:
            if isinstance(atoms.get(key), str):
                atoms[key] = redact_url(atoms[key])
        for key in _QUERY_ATOMS:
            if isinstance(atoms.get(key), str):
                atoms[key] = redact_query_string(atoms[key])
        return atoms
