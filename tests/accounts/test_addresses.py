"""With WEB_PORT (or SITE_URL / SITE_DOMAIN) set, everything printed or mailed names the
real address; every setting the code reads is in the README's table."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

from django.contrib.sites.models import Site
from django.core import mail
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]


def settings_in_a_fresh_process(**env) -> list[str]:
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'ftmv.settings'; django.setup();"
        "from django.conf import settings as s; print(s.SITE_DOMAIN); print(s.PUBLIC_BASE_URL)"
    )
    clean = {k: v for k, v in os.environ.items() if k not in ("SITE_URL", "SITE_DOMAIN", "WEB_PORT")}
    run = subprocess.run(
        [sys.executable, "-c", code], env={**clean, **env}, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    return run.stdout.split()


def test_the_address_follows_web_port_and_site_url():
    assert settings_in_a_fresh_process(WEB_PORT="8100") == ["127.0.0.1:8100", "http://127.0.0.1:8100"]
    assert settings_in_a_fresh_process(WEB_PORT="8100", SITE_URL="https://try.example.com") == [
        "try.example.com",
        "https://try.example.com",
    ]
    assert settings_in_a_fresh_process(SITE_DOMAIN="shop.example.org:8443")[0] == "shop.example.org:8443"


def test_bootstrap_prints_and_mails_the_real_address(db, client, settings):
    settings.SITE_DOMAIN, settings.PUBLIC_BASE_URL = "127.0.0.1:8100", "http://127.0.0.1:8100"
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    out = io.StringIO()
    call_command("bootstrap", stdout=out)
    printed = out.getvalue()
    assert "http://127.0.0.1:8100/api/v1/account" in printed and "http://127.0.0.1:8100/api/docs" in printed
    assert ":8000" not in printed
    assert Site.objects.get_current().domain == "127.0.0.1:8100"

    response = client.post(
        "/accounts/signup/",
        {"email": "new@example.com", "password1": "Sturdy-Passw0rd-1", "password2": "Sturdy-Passw0rd-1"},
        HTTP_HOST="127.0.0.1:8100",
    )
    assert response.status_code == 302
    message = mail.outbox[-1]
    text = message.subject + message.body
    assert "127.0.0.1:8100" in text and "8000" not in text


def test_every_setting_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    read = set()
    pattern = re.compile(r"""(?:os\.environ\.get|env_int|env_bool|env_list|os\.getenv)\(\s*["']([A-Z][A-Z0-9_]+)["']""")
    for folder in ("ftmv", "accounts", "api", "billing", "core", "tryon", "web", "imaging", "catalog"):
        for path in (ROOT / folder).rglob("*.py"):
            read.update(pattern.findall(path.read_text()))
    read -= {"FTMV_TESTING"}  # set by the test settings only
    missing = sorted(name for name in read if f"`{name}`" not in readme)
    assert missing == [], f"settings missing from the README's table: {missing}"
