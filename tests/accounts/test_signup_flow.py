"""Confirming the e-mail address logs the new user in (it used to send them to log in)."""

from __future__ import annotations

import re

from django.core import mail


def test_confirming_the_email_logs_the_user_in(client, db, settings):
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    mail.outbox.clear()
    password = "Sturdy-Passw0rd-1"
    response = client.post(
        "/accounts/signup/", {"email": "fresh@example.com", "password1": password, "password2": password}
    )
    assert response.status_code == 302
    assert client.get("/dashboard/").status_code == 302  # not logged in before confirming
    link = re.search(r"https?://\S+(/accounts/confirm-email/\S+/)", mail.outbox[-1].body).group(1)
    assert client.get(link).status_code == 200
    confirmed = client.post(link)
    assert confirmed.status_code == 302 and "/accounts/login/" not in confirmed["Location"]
    dashboard = client.get("/dashboard/")
    assert dashboard.status_code == 200 and dashboard.context["user"].email == "fresh@example.com"
