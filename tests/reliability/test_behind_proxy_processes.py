"""Behind a TLS proxy, with a real gunicorn started as the README says for that case
(TRUSTED_PROXY_COUNT=1): every request comes from the proxy's address, the client's is in
X-Forwarded-For. One client's bad keys and failed logins do not lock other clients out."""

from __future__ import annotations

import pytest
import requests

from tests.api.conftest import make_user
from tests.reliability.conftest import gunicorn_web


@pytest.fixture
def web_behind_proxy(transactional_db, tmp_path, clean_cache):
    with gunicorn_web(
        tmp_path / "gunicorn.log",
        TRUSTED_PROXY_COUNT="1",
        API_AUTH_FAILURE_LIMIT="20",  # the old default: a guesser's burst is well past it
    ) as base:
        yield base


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
