"""Chunked request bodies (``Transfer-Encoding: chunked``, no Content-Length), read in full.

Django reads ``CONTENT_LENGTH`` bytes of a request and treats a missing length as an empty body, so a
client that streams its upload chunked (curl -H "Transfer-Encoding: chunked", Node's fetch with a stream
body, requests with a generator) got "Required" for every field. Gunicorn decodes the chunks and marks
the input as terminated (``wsgi.input_terminated``, it ends at the body's end): there the body is read
here, up to MAX_REQUEST_BYTES (more is answered 413 in the API's error shape without reading further),
and handed on with its length. Where the server does not terminate the input, reading it could block,
so the request is passed on unchanged.
"""

from __future__ import annotations

import io
import json

from django.conf import settings

_CHUNK = 64 * 1024


def _too_large(limit: int, start_response):
    body = json.dumps(
        {
            "success": False,
            "error": {
                "code": "PAYLOAD_TOO_LARGE",
                "message": f"The request body is over the limit of {limit} bytes.",
                "details": {"limit": limit},
            },
        }
    ).encode()
    start_response(
        "413 Request Entity Too Large",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body))), ("Connection", "close")],
    )
    return [body]


class ChunkedBodyMiddleware:
    """WSGI middleware around the Django application (ftmv.wsgi)."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not environ.get("CONTENT_LENGTH") and environ.get("wsgi.input_terminated"):
            limit = settings.API_MAX_REQUEST_BYTES
            stream = environ["wsgi.input"]
            buffer = io.BytesIO()
            while True:
                data = stream.read(_CHUNK)
                if not data:
                    break
                buffer.write(data)
                if buffer.tell() > limit:
                    return _too_large(limit, start_response)
            environ["CONTENT_LENGTH"] = str(buffer.tell())
            buffer.seek(0)
            environ["wsgi.input"] = buffer
        return self.app(environ, start_response)
