"""Serves stored uploads and results at MEDIA_URL when media are local files (FileSystemStorage).

With S3-compatible storage the API hands out short-lived signed URLs of the bucket instead, and this view
answers 404: an object's key must never become a link that outlives its signature.

Only image extensions are served, with the content type fixed by the extension and nosniff, so a
stored file can never be rendered as HTML or script. Names are unguessable (see order_file_path).
"""

from __future__ import annotations

from pathlib import PurePosixPath

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import FileSystemStorage, default_storage
from django.http import FileResponse, Http404
from django.views.decorators.http import require_safe

CONTENT_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"}


@require_safe
def serve_media(request, path: str):
    suffix = PurePosixPath(path).suffix.lower()
    if suffix not in CONTENT_TYPES or not isinstance(default_storage, FileSystemStorage):
        raise Http404
    try:
        stored = default_storage.open(path, "rb")
    except (
        SuspiciousFileOperation,
        FileNotFoundError,
        IsADirectoryError,
        NotADirectoryError,
    ):  # outside MEDIA_ROOT, missing, a folder
        raise Http404 from None
    response = FileResponse(stored, content_type=CONTENT_TYPES[suffix])
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=86400"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'"
    return response
