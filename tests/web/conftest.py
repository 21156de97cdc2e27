"""Browser fixtures: Debian's Chromium driven by Playwright (never `playwright install`)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Django's live server and Playwright's sync API share a thread with an event loop: tests only.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
A11Y_SCRIPT = (Path(__file__).parent / "a11y.js").read_text()
WIDTHS = {"phone": 390, "desktop": 1280}
IMAGES_LOADED = "Array.from(document.images).every(i => i.hidden || (i.complete && i.naturalWidth > 0))"


@pytest.fixture(scope="session")
def chromium():
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium); browser tests need it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


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
            page.wait_for_function(IMAGES_LOADED)
            page.evaluate("window.scrollTo(0, 0)")
            # Nothing may stick out sideways (a phone would scroll horizontally).
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{name} is {overflow}px wider than the {label} viewport"
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
        self.checked.append(name)


@pytest.fixture
def pages(chromium):
    return Pages(chromium)
