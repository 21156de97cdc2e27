"""Owner / outsider pairs for every endpoint that touches orders; revoked keys."""

from __future__ import annotations

from accounts.models import ApiKey
from accounts.services import apikey_revoke

from .conftest import client_for, make_user


def test_other_users_order_is_404(api, owner, tryon_body):
    order_id = api.post("/api/v1/generate", tryon_body, format="json").json()["order_id"]
    _, other_key = make_user("outsider@example.com")
    outsider = client_for(other_key)
    response = outsider.get(f"/api/v1/orders/{order_id}")
    assert response.status_code == 404 and response.json()["error"]["code"] == "NOT_FOUND"
    assert outsider.get("/api/v1/orders").json()["orders"] == []
    assert api.get(f"/api/v1/orders/{order_id}").status_code == 200


def test_revoked_key_is_401(api, owner):
    assert api.get("/api/v1/account").status_code == 200
    apikey_revoke(key=ApiKey.objects.get(user=owner[0]))
    response = api.get("/api/v1/account")
    assert response.status_code == 401 and response.json()["error"]["code"] == "UNAUTHORIZED"
