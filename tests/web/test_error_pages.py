"""With DEBUG on, the 404 page was Django's technical one (unstyled, every URL pattern
listed) and a 500 showed the traceback; now visitors get the site's own pages, staff the technical ones."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User

pytestmark = pytest.mark.django_db


def test_debug_404_is_the_sites_page_for_visitors(settings):
    settings.DEBUG = True
    response = Client().get("/no-such-page/")
    body = response.content.decode()
    assert response.status_code == 404
    assert "Page not found" in body and "site.css" in body
    assert "URLconf" not in body and "api/v1/" not in body


def test_debug_404_stays_technical_for_staff(settings):
    settings.DEBUG = True
    staff = Client()
    staff.force_login(User.objects.create_superuser("admin@example.com", "admin-pass-123"))
    assert "URLconf" in staff.get("/no-such-page/").content.decode()


@pytest.mark.urls("tests.web.broken_urls")
def test_debug_500_is_the_sites_page_for_visitors(settings):
    settings.DEBUG = True
    response = Client(raise_request_exception=False).get("/broken/")
    body = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong" in body and "secret internals" not in body and "Traceback" not in body


def test_api_errors_stay_json_with_debug(settings):
    settings.DEBUG = True
    response = Client().get("/api/v1/nowhere")
    assert response.status_code == 404 and response.json()["success"] is False
