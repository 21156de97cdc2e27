"""Golden JSON shapes of api.md: exact key sets and value types."""

from __future__ import annotations

import re
from datetime import datetime

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")


class Iso:
    """An ISO 8601 UTC timestamp with +00:00, as on the seed page."""


class Url:
    """An absolute http(s) URL."""


def check(value, spec, path: str = "$") -> None:
    if isinstance(spec, dict):
        assert isinstance(value, dict), f"{path}: expected object, got {value!r}"
        assert set(value) == set(spec), f"{path}: keys {sorted(value)} != {sorted(spec)}"
        for key, sub in spec.items():
            check(value[key], sub, f"{path}.{key}")
    elif isinstance(spec, list):
        assert isinstance(value, list), f"{path}: expected list"
        for i, item in enumerate(value):
            check(item, spec[0], f"{path}[{i}]")
    elif spec is Iso:
        assert isinstance(value, str) and ISO_UTC.match(value), f"{path}: {value!r} is not ISO UTC"
        datetime.fromisoformat(value)
    elif spec is Url:
        assert isinstance(value, str) and value.startswith(("http://", "https://")), f"{path}: {value!r}"
    elif spec is int:
        assert isinstance(value, int) and not isinstance(value, bool), f"{path}: {value!r} is not an int"
    elif isinstance(spec, tuple):  # literal choices
        assert value in spec, f"{path}: {value!r} not in {spec}"
    else:
        assert isinstance(value, spec), f"{path}: {value!r} is not {spec}"


ACCEPTED = {
    "success": (True,),
    "order_id": int,
    "status": ("pending",),
    "credits_used": int,
    "message": str,
    "estimated_time": str,
    "created_at": Iso,
}
_ORDER = {"id": int, "style": str, "status": str, "credits_used": int, "created_at": Iso}
IN_FLIGHT = {"success": (True,), "order": {**_ORDER, "progress": int, "stage": str, "estimated_completion": Iso}}
COMPLETED_TRYON = {
    "success": (True,),
    "order": {
        **_ORDER,
        "completed_at": Iso,
        "processing_time": int,
        "results": {"person_url": Url, "clothing_url": Url, "result_url": Url},
    },
}
COMPLETED_CATALOG = {
    "success": (True,),
    "order": {
        **_ORDER,
        "completed_at": Iso,
        "processing_time": int,
        "results": {"product_url": Url, "catalog_images": [Url], "quantity": int, "product_description": str},
    },
}
FAILED = {"success": (True,), "order": {**_ORDER, "error": {"code": str, "message": str}, "failed_at": Iso}}
ACCOUNT = {
    "success": (True,),
    "account": {
        "user_id": int,
        "credits_remaining": int,
        "api_calls_today": int,
        "api_calls_total": int,
        "plan": ("free", "paid"),
    },
    "rate_limit": {"limit": int, "remaining": int, "reset": int},
    "webhook": {"signing_secret": str},
}


def error(code: str) -> dict:
    return {"success": (False,), "error": {"code": (code,), "message": str, "details": dict}}
