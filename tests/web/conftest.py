"""Browser helpers for the page tests: screenshots at two widths and the accessibility check
(the `chromium` fixture itself is in tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..conftest import wait_for_js

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
A11Y_SCRIPT = (Path(__file__).parent / "a11y.js").read_text()
WIDTHS = {"phone": 390, "desktop": 1280}
IMAGES_LOADED = "Array.from(document.images).every(i => i.hidden || (i.complete && i.naturalWidth > 0))"


class Pages:
    """Screenshots at phone and desktop widths, and the accessibility check, for each page visited."""

    def __init__(self, browser):
        self.browser = browser
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.checked: list[str] = []

    def new_page(self):
        context = self.browser.new_context(viewport={"width": WIDTHS["desktop"], "height": 900}, accept_downloads=True)
        context.set_default_timeout(20_000)
        return context.new_page()

    def capture(self, page, name: str) -> None:
        """Check the page, then screenshot it at both widths (back at desktop width afterwards)."""
        page.wait_for_load_state("load")
        problems = page.evaluate(A11Y_SCRIPT)
        assert problems == [], f"accessibility problems on {name} ({page.url}):\n" + "\n".join(problems)
        for label in ("phone", "desktop"):
            page.set_viewport_size({"width": WIDTHS[label], "height": 900})
            # Lazy images load only when needed: scroll through, then wait for every image.
            page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
            wait_for_js(page, IMAGES_LOADED)
            page.evaluate("window.scrollTo(0, 0)")
            # Nothing may stick out sideways (a phone would scroll horizontally).
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{name} is {overflow}px wider than the {label} viewport"
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
        self.checked.append(name)


@pytest.fixture
def pages(chromium):
    return Pages(chromium)
