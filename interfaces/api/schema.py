"""The OpenAPI schema's shared parts: the problem-details component and the error answers
every operation may give."""

from __future__ import annotations

from typing import Any

PROBLEM = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "Field problems of invalid input; pointer is a JSON pointer into the body.",
            "items": {
                "type": "object",
                "properties": {
                    "pointer": {"type": "string"},
                    "detail": {"type": "string"},
                    "code": {"type": "string"},
                },
                "required": ["pointer", "detail", "code"],
            },
        },
    },
    "required": ["type", "title", "status", "detail"],
}

_ALWAYS = {
    "401": "No valid API key.",
    "403": "The key lacks the scope.",
    "404": "Not found.",
    "405": "Method not allowed.",
    "406": "Not acceptable.",
    "429": "Too many requests for this key.",
}
_WRITES = {
    "400": "Invalid input; nothing was written.",
    "409": "The record's state refuses the change.",
    "413": "Too large.",
    "415": "Not JSON.",
    "422": "The Idempotency-Key was used with another request.",
}


def add_problem_responses(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: the Problem component on every error answer."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM
    content = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in {"get", "put", "post", "patch", "delete"}:
                continue
            answers = operation.setdefault("responses", {})
            codes = dict(_ALWAYS)
            codes["400"] = "Invalid request."
            if method != "get":
                codes.update(_WRITES)
            for code, description in codes.items():
                answers.setdefault(code, {"description": description, "content": content})
    return result
