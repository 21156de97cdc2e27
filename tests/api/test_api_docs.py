"""The OpenAPI document is the reference a client developer needs: a real description and
examples per endpoint, and the overview (life cycle and polling, credits and refunds, plans and limits,
idempotency, webhooks with signature verification code that works, error codes); Swagger UI and Redoc
show it (their screenshots: tests/web/test_credit_gate.py's browser test)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time

import pytest

from tryon.webhooks import sign


@pytest.fixture
def schema(client, db) -> dict:
    response = client.get("/api/v1/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return json.loads(response.content)


def operations(schema):
    return [op for ops in schema["paths"].values() for op in ops.values()]


def test_every_endpoint_has_its_own_description_and_examples(schema):
    ops = operations(schema)
    descriptions = [op["description"] for op in ops]
    assert len(set(descriptions)) == len(ops) == 4
    assert all(len(d) > 150 and op.get("summary") for d, op in zip(descriptions, ops, strict=True))
    generate = schema["paths"]["/api/v1/generate"]["post"]
    request_examples = generate["requestBody"]["content"]["application/json"]["examples"]
    assert {"VirtualTry-on", "ProductCatalog"} <= set(request_examples)
    responses = generate["responses"]
    assert responses["202"]["content"]["application/json"]["examples"]
    assert responses["402"]["content"]["application/json"]["examples"]
    order = schema["paths"]["/api/v1/orders/{order_id}"]["get"]
    assert len(order["responses"]["200"]["content"]["application/json"]["examples"]) == 3


def test_overview_covers_what_a_client_needs(schema):
    text = schema["info"]["description"]
    for heading in (
        "Order life cycle and polling",
        "Credits and refunds",
        "Plans and limits",
        "Idempotency",
        "Webhooks",
        "Errors",
    ):
        assert f"## {heading}" in text
    for code in ("INVALID_REQUEST", "INSUFFICIENT_CREDITS", "RATE_LIMIT_EXCEEDED", "CANNOT_PROCESS_IMAGES"):
        assert code in text


def code_block(text: str, language: str) -> str:
    match = re.search(rf"```{language}\n(.*?)```", text, re.S)
    assert match, language
    return match.group(1)


def test_the_documented_python_verification_works(schema):
    namespace: dict = {}
    exec(code_block(schema["info"]["description"], "python"), namespace)  # noqa: S102 - our own docs
    verify = namespace["verify"]
    body, now = b'{"id": 1}', int(time.time())
    header = f"t={now},v1={sign('whsec_x', now, body)}"
    assert verify("whsec_x", header, body)
    assert not verify("whsec_y", header, body)
    assert not verify("whsec_x", header, body + b" ")


@pytest.mark.skipif(not shutil.which("node"), reason="no node")
def test_the_documented_javascript_verification_works(schema, tmp_path):
    body, now = '{"id": 1}', int(time.time())
    header = f"t={now},v1={sign('whsec_x', now, body.encode())}"
    script = tmp_path / "verify.js"
    script.write_text(
        code_block(schema["info"]["description"], "javascript")
        + f"\nconsole.log(verify('whsec_x', {json.dumps(header)}, Buffer.from({json.dumps(body)})),"
        + f" verify('whsec_y', {json.dumps(header)}, Buffer.from({json.dumps(body)})));\n"
    )
    run = subprocess.run(["node", str(script)], capture_output=True, text=True, timeout=30)
    assert run.stdout.split() == ["true", "false"], run.stderr


def test_swagger_and_redoc_serve_the_document(client, db):
    for path in ("/api/docs", "/api/redoc"):
        page = client.get(path)
        assert page.status_code == 200 and b"/api/v1/schema" in page.content
