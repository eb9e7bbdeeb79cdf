"""Secrets out of logged addresses: the one rule for every log line that carries a URL.

Some addresses are keys: a guest's sign-in link, an e-mail confirmation or unsubscribe link,
a tracked link or SMS short link, a staff password-reset link, the Mews webhook
(``/hooks/mews/?token=…``). Whoever reads them in a log could use them. ``redact_url``
masks them (``MASK``) and keeps the rest — method, path shape, status stay readable:

- a path segment that is a secret: the URL patterns say which, with the ``secret`` path
  converter (``path("login/link/<secret:token>/", …)``; ``SecretConverter``, registered by
  ``OpsConfig.ready``) — a new secret route is masked by being written so;
- a query parameter named in ``SECRET_QUERY_PARAMETERS``;
- an address in a query value (``?next=/guest/unsubscribe/…``), by the same rule.

Used by the gunicorn access log (``crm_messaging.ops.gunicorn_logging``) and by the filter
on Django's request loggers (``crm_messaging.ops.logfilters``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import unquote

from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.converters import StringConverter

# One mask for every secret we hide: in the logs here, and in the send log's stored message
# bodies (``channels_out.text.seal``).
MASK = "••••••"

# Query parameters whose value is a credential wherever they appear (Mews sends ``token``).
SECRET_QUERY_PARAMETERS = frozenset(
    {"token", "access_token", "code", "key", "api_key", "secret", "signature", "password"}
)

# A route's ``<converter:name>`` (Django's syntax for ``path()``).
_ROUTE_PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<parameter>[^>]+)>")
_SCHEME_AND_HOST = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*")


class SecretConverter(StringConverter):
    """A path segment that is a secret (``<secret:token>``): matched as ``<str:…>``, masked in
    every log by ``redact_url``."""


def redact_url(url: str) -> str:
    """``url`` — a path, a path and query, or a whole URL — with its secrets masked."""
    origin_match = _SCHEME_AND_HOST.match(url)
    origin = origin_match.group() if origin_match else ""
    rest = url[len(origin) :]
    rest, hash_mark, fragment = rest.partition("#")
    path, question_mark, query = rest.partition("?")
    return origin + _redact_path(path) + question_mark + _redact_query(query) + hash_mark + fragment


def redact_query_string(query: str) -> str:
    """A query string alone (a WSGI ``QUERY_STRING``) with its secrets masked, as ``redact_url``."""
    return redact_url("?" + query).removeprefix("?")


def _redact_path(path: str) -> str:
    masked = _mask_secret_segments(path)
    if masked == path and "%" in path:
        # The routes match the decoded path: a secret behind a %-escape is masked there.
        decoded = unquote(path)
        masked_decoded = _mask_secret_segments(decoded)
        if masked_decoded != decoded:
            return masked_decoded
    return masked


def _mask_secret_segments(path: str) -> str:
    try:
        routes = _secret_routes(settings.ROOT_URLCONF)
    except Exception:
        # URL patterns that do not load (a broken view module): a log line must not raise,
        # nor show what it cannot check — the whole path is masked.
        return "/" + MASK if path else path
    for route in routes:
        match = route.match(path)
        if match is None:
            continue
        spans = [match.span(name) for name in route.groupindex if name.startswith("secret")]
        for start, end in sorted(spans, reverse=True):
            path = path[:start] + MASK + path[end:]
    return path


def _redact_query(query: str) -> str:
    if not query:
        return query
    pairs = []
    for pair in query.split("&"):
        name, equals, value = pair.partition("=")
        if equals and unquote(name).lower() in SECRET_QUERY_PARAMETERS:
            value = MASK
        elif unquote(value).startswith("/"):
            decoded = unquote(value)
            redacted = redact_url(decoded)
            value = redacted if redacted != decoded else value
        pairs.append(name + equals + value)
    return "&".join(pairs)


@functools.cache
def _secret_routes(urlconf: str) -> tuple[re.Pattern[str], ...]:
    """One prefix pattern per route with a secret segment, in the project's URL patterns
    (read once per URLconf): the path up to its last secret, each secret a ``secretN``
    group."""
    found = {
        _route_regex(levels)
        for levels in _routes(get_resolver(urlconf).url_patterns, ())
        if any(_secret_parameters(level) for level in levels)
    }
    return tuple(re.compile(regex) for regex in sorted(found))


def _routes(
    entries: Sequence[URLPattern | URLResolver], above: tuple[Any, ...]
) -> Iterator[tuple[Any, ...]]:
    for entry in entries:
        levels = (*above, entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _routes(entry.url_patterns, levels)
        else:
            yield levels


def _secret_parameters(pattern: Any) -> set[str]:
    converters = getattr(pattern, "converters", {})
    return {name for name, conv in converters.items() if isinstance(conv, SecretConverter)}


def _route_regex(levels: tuple[Any, ...]) -> str:
    """The regex of the path from the root down to its last secret segment."""
    parts = ["^/"]
    secrets_seen = 0
    secrets_total = sum(len(_secret_parameters(level)) for level in levels)
    for level in levels:
        route = getattr(level, "_route", None)
        if route is None:  # a regex level (re_path) or a language prefix: its own pattern
            parts.append(level.regex.pattern.lstrip("^").removesuffix(r"\Z").rstrip("$"))
            continue
        route = str(route)
        secret = _secret_parameters(level)
        previous_end = 0
        for match in _ROUTE_PARAMETER.finditer(route):
            parts.append(re.escape(route[previous_end : match.start()]))
            previous_end = match.end()
            name = match.group("parameter")
            converter = level.converters[name]
            if name in secret:
                parts.append(f"(?P<secret{secrets_seen}>{converter.regex})")
                secrets_seen += 1
                if secrets_seen == secrets_total:
                    return "".join(parts)
            else:
                parts.append(f"(?:{converter.regex})")
        parts.append(re.escape(route[previous_end:]))
    return "".join(parts)
