"""Response headers Django's SecurityMiddleware does not set: Content-Security-Policy and Permissions-Policy.

The site's pages load scripts and styles from /static only (no inline <script>); dynamic widths
(progress bars) are inline style attributes, hence style-src-attr. The interactive API pages
(/api/docs, /api/redoc) load their bundles from a CDN with an inline bootstrap and get their own
policy. A view that sets its own policy (media files) keeps it.
"""

from __future__ import annotations

from django.conf import settings

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
