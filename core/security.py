"""Response headers Django's SecurityMiddleware does not set: Content-Security-Policy and Permissions-Policy.

The site's pages load scripts and styles from /static only (no inline <script>); dynamic widths
(progress bars) are inline style attributes, hence style-src-attr. The interactive API pages
(/api/docs, /api/redoc) load their bundles from a CDN with an inline bootstrap and get their own
policy. A view that sets its own policy (media files) keeps it.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse, JsonResponse

PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            docs = request.path.startswith(settings.CSP_DOCS_PATHS)
            response["Content-Security-Policy"] = settings.CSP_DOCS if docs else settings.CSP_DEFAULT
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response


class RequestSizeLimitMiddleware:
    """One request-size limit (MAX_REQUEST_BYTES) for every endpoint, multipart uploads included.

    Django's DATA_UPLOAD_MAX_MEMORY_SIZE does not count file parts: without this a web form (even the
    login page) would stream any amount into the temporary folder. A declared Content-Length over the
    limit is refused before a byte of the body is read, and Django never reads past the declared length,
    so the limit holds while reading too. Under /api/ the answer is the API's JSON error shape.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.API_MAX_REQUEST_BYTES
        if length > limit:
            message = f"The request body is {length} bytes; the limit is {limit}."
            response: HttpResponse
            if request.path.startswith("/api/"):
                body = {"success": False, "error": {"code": "PAYLOAD_TOO_LARGE", "message": message, "details": {}}}
                response = JsonResponse(body, status=413)
            else:
                response = HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
            # The unread body would otherwise be parsed as the next request on a kept-alive connection.
            response["Connection"] = "close"
            return response
        return self.get_response(request)


def client_address(request) -> str:
    """REMOTE_ADDR, or the address the N-th trusted proxy saw in X-Forwarded-For (TRUSTED_PROXY_COUNT, which
    settings also name API_TRUSTED_PROXIES)."""
    proxies = settings.API_TRUSTED_PROXIES
    if proxies:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR", "") or "unknown"
