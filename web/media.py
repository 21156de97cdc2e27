"""Serves stored uploads and results from MEDIA_ROOT (local file storage; S3 storage gives its own URLs).

Only image extensions are served, with the content type fixed by the extension and nosniff, so a
stored file can never be rendered as HTML or script. Names are unguessable (see order_file_path).
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.http import FileResponse, Http404
from django.utils._os import safe_join
from django.views.decorators.http import require_safe

CONTENT_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"}


@require_safe
def serve_media(request, path: str):
    suffix = Path(path).suffix.lower()
    if suffix not in CONTENT_TYPES:
        raise Http404
    try:
        full = Path(safe_join(settings.MEDIA_ROOT, path))
    except (ValueError, SuspiciousFileOperation):  # outside MEDIA_ROOT
        raise Http404 from None
    if not full.is_file():
        raise Http404
    response = FileResponse(full.open("rb"), content_type=CONTENT_TYPES[suffix])
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=86400"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'"
    return response
