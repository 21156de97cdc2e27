"""The site's URLs plus one view that fails (tests/web/test_error_pages.py)."""

from django.urls import path

from ftmv.urls import urlpatterns as site_urlpatterns


def broken(request):
    raise RuntimeError("secret internals")


urlpatterns = [path("broken/", broken), *site_urlpatterns]
