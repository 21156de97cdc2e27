"""Swagger UI and Redoc render the reference (overview, per-endpoint descriptions and
examples) in Chromium; screenshots at 1280 and 390 px under artifacts/screenshots/. (Not the site's own
accessibility check: both pages are third-party apps.)"""

from __future__ import annotations

import pytest

from .conftest import SCREENSHOTS, WIDTHS

pytestmark = [pytest.mark.browser]


def shoot(page, name: str) -> None:
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 1400})
        page.wait_for_timeout(300)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"))


def test_swagger_and_redoc_show_the_reference(live_server, pages):
    page = pages.new_page()
    page.goto(live_server.url + "/api/docs")
    page.wait_for_selector(".opblock-summary", timeout=30_000)
    text = page.inner_text("body")
    assert "Order life cycle and polling" in text and "Create a try-on or catalog order" in text
    generate = page.locator(".opblock", has_text="/api/v1/generate")
    generate.locator(".opblock-summary").click()  # open POST /generate: its description and examples
    generate.locator(".opblock-description-wrapper").first.wait_for()
    assert "Idempotency-Key" in generate.inner_text()
    shoot(page, "40-api-docs-swagger")

    page.goto(live_server.url + "/api/redoc")
    page.wait_for_selector("text=Verify it before trusting the body", timeout=30_000)
    assert "CANNOT_PROCESS_IMAGES" in page.inner_text("body")
    shoot(page, "41-api-docs-redoc")
