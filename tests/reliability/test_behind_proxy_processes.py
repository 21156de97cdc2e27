"""Behind a TLS proxy, with a real gunicorn started as the README says for that case
(TRUSTED_PROXY_COUNT=1): every request comes from the proxy's address, the client's is in
X-Forwarded-For. One client's bad keys and failed logins do not lock other clients out."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.api.conftest import make_user
from tests.conftest import database_url_for_tests

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


@pytest.fixture
def web_behind_proxy(transactional_db, tmp_path, clean_cache):
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url_for_tests(),
        "TRUSTED_PROXY_COUNT": "1",
        "API_AUTH_FAILURE_LIMIT": "20",  # the old default: a guesser's burst is well past it
    }
    log = (tmp_path / "gunicorn.log").open("wb")
    web = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "ftmv.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(f"{base}/api/v1/nothing", timeout=5)
            break
        except requests.ConnectionError:
            time.sleep(0.3)
    try:
        yield base
    finally:
        os.killpg(web.pid, signal.SIGTERM)
        web.wait(timeout=20)
        log.close()


def test_one_clients_failures_do_not_lock_out_others_behind_the_proxy(web_behind_proxy):
    from allauth.account.models import EmailAddress

    user, key = make_user("proxied@example.com", credits=10, plan="paid")
    user.set_password("correct horse battery")
    user.save()
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    attacker = {"X-Forwarded-For": "203.0.113.77"}
    for i in range(25):
        requests.get(
            web_behind_proxy + "/api/v1/account",
            headers={**attacker, "Authorization": f"Bearer ftmv_{i:08d}" + "b" * 51},
            timeout=30,
        )
    blocked = requests.get(
        web_behind_proxy + "/api/v1/account", headers={**attacker, "Authorization": "Bearer x"}, timeout=30
    )
    assert blocked.status_code == 429  # the guesser is throttled...
    other = {"X-Forwarded-For": "198.51.100.8", "Authorization": f"Bearer {key}"}
    assert requests.get(web_behind_proxy + "/api/v1/account", headers=other, timeout=30).status_code == 200
    # ...and ten failed logins with made-up addresses do not stop another client's login.
    session = requests.Session()
    session.get(web_behind_proxy + "/accounts/login/", headers=attacker, timeout=30)
    for i in range(12):
        failed = session.post(
            web_behind_proxy + "/accounts/login/",
            data={
                "login": f"nobody{i}@example.com",
                "password": "wrong",
                "csrfmiddlewaretoken": session.cookies.get("csrftoken"),
            },
            headers={**attacker, "Referer": web_behind_proxy + "/accounts/login/"},
            timeout=30,
        )
        assert failed.status_code in (200, 429), failed.status_code  # the form again (or allauth's limit)
    visitor = requests.Session()
    page = visitor.get(web_behind_proxy + "/accounts/login/", headers={"X-Forwarded-For": "198.51.100.9"}, timeout=30)
    token = page.cookies.get("csrftoken")
    response = visitor.post(
        web_behind_proxy + "/accounts/login/",
        data={"login": user.email, "password": "correct horse battery", "csrfmiddlewaretoken": token},
        headers={"X-Forwarded-For": "198.51.100.9", "Referer": web_behind_proxy + "/accounts/login/"},
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard/", response.text[:500]
