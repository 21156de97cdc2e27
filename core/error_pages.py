"""The site's own 404 and 500 pages, also with DEBUG on, for everyone but staff.

With DEBUG on Django answers a 404 with its technical page, which lists every URL pattern of the site, and a
500 with the traceback and settings: fine for the developer, not for a visitor of an instance someone left
in DEBUG (or a new user trying one out). Staff still get the technical pages; everyone else gets
templates/404.html and templates/500.html, as with DEBUG off. JSON answers (the API's errors) are left
as they are.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponseServerError
from django.shortcuts import render
from django.template import loader


class SiteErrorPagesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not settings.DEBUG or response.status_code not in (404, 500):
            return response
        if not response.get("Content-Type", "").startswith("text/html"):
            return response
        user = getattr(request, "user", None)
        if user is not None and user.is_staff:
            return response
        if response.status_code == 404:
            return render(request, "404.html", status=404)
        # Like Django's own server_error view: no request context (the failure may be in what builds it).
        return HttpResponseServerError(loader.get_template("500.html").render())
