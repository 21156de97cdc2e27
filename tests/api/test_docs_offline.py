"""The interactive API pages load every script, style sheet, font and icon from this site's /static."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders


class AssetLinks(HTMLParser):
    """src/href of <script>, <link>, <img>; the text of inline <style> blocks (for @import / url())."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs) -> None:
        values = dict(attrs)
        if tag in ("script", "img") and values.get("src"):
            self.urls.append(values["src"])
        if tag == "link" and values.get("href"):
            self.urls.append(values["href"])
        self._in_style = tag == "style"

    def handle_endtag(self, tag) -> None:
        self._in_style = False

    def handle_data(self, data) -> None:
        if self._in_style:
            self.styles.append(data)


@pytest.mark.parametrize("path", ["/api/docs", "/api/redoc"])
def test_docs_page_uses_only_local_static_assets(client, clean_cache, path):
    response = client.get(path)
    assert response.status_code == 200
    page = AssetLinks()
    page.feed(response.content.decode())
    scripts = [url for url in page.urls if url.endswith(".js")]
    assert scripts, "the page loads its UI bundle"
    assets = [url for url in page.urls if not url.startswith(("/api/", "?"))]  # the page's own script / schema
    for url in assets:
        assert url.startswith(settings.STATIC_URL), f"{url} is not served by this site"
        assert finders.find(url.removeprefix(settings.STATIC_URL).split("?")[0]), f"{url} is not a static file"
    for style in page.styles:
        assert "@import" not in style and "http" not in style
    assert "cdn.jsdelivr.net" not in response.content.decode()
    assert "fonts.googleapis.com" not in response.content.decode()
