"""Schemathesis fuzz run of /api/v1 from its own OpenAPI document, in-process over WSGI: no 500s,
every status code documented, every response body matching its documented schema.

Bounded: MAX_EXAMPLES cases per operation and generation mode (valid and invalid data), derandomized
so a failure reproduces. (schemathesis.pytest.from_fixture does not work with pytest 9, hence the loop.)
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import ignored_auth, negative_data_rejection, positive_data_acceptance

from tests.api.conftest import make_user

MAX_EXAMPLES = 25


@pytest.fixture
def api_schema(db, clean_cache):
    # Django's WSGI handler closes the database connection after each request; in a test that would
    # close the test transaction's connection (Django's own test client unhooks it the same way).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/v1/schema?format=json", get_wsgi_application())
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda m: m.value)
def test_api_fuzz(api_schema, mode, settings):
    settings.API_AUTH_FAILURE_LIMIT = 10_000  # fuzzed requests must not lock the test client's address out
    _, key = make_user(f"fuzz-{mode.value}@example.com", credits=1000, plan="paid")
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/v1/generate", "/api/v1/orders/{order_id}", "/api/v1/account"}
    statuses: set[int] = set()
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @hypothesis_settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {key}"}
            # Schema-valid bodies carry random strings as images: 400 INVALID_IMAGE is the right
            # answer there, so "valid data is accepted" does not apply. Every call carries a valid key
            # (bad keys are tested in tests/api and test_security), so "ignored auth" does not either.
            response = case.call_and_validate(excluded_checks=[positive_data_acceptance, ignored_auth])
            statuses.add(response.status_code)

        run()
    assert 500 not in statuses and 200 in statuses and 400 in statuses


def _nested(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


def test_api_hostile_cases(api_schema, settings):
    """Cases random generation rarely reaches: deep nesting, pages far past the end,
    Idempotency-Key reuse, webhook URLs in every non-public disguise; each validated like the fuzz run
    (documented status, documented body) and none a 500."""
    settings.API_AUTH_FAILURE_LIMIT = 10_000
    settings.WEBHOOK_ALLOW_PRIVATE = False
    _, key = make_user("fuzz-hostile@example.com", credits=1000, plan="paid")
    operations = {(op.method.upper(), op.path): op for op in (r.ok() for r in api_schema.get_all_operations())}
    generate = operations[("POST", "/api/v1/generate")]
    orders = operations[("GET", "/api/v1/orders")]
    auth = {"Authorization": f"Bearer {key}"}
    cases = [
        generate.Case(body=_nested(800), media_type="application/json", headers=auth),
        generate.Case(body={"options": _nested(60)}, media_type="application/json", headers=auth),
        generate.Case(
            body={"style": "product_catalog", "quantity": 6, "product_image": "eA=="},
            media_type="application/json",
            headers=auth,
        ),
    ]
    for url in (
        "http://[64:ff9b::7f00:1]/h",
        "http://[2002:a9fe:a9fe::]/h",
        "http://[::ffff:10.0.0.1]/h",
        "http://0x7f.1/h",
    ):
        cases.append(
            generate.Case(
                body={"person_image": "eA==", "clothing_image": "eA==", "webhook_url": url},
                media_type="application/json",
                headers=auth,
            )
        )
    for page in ("99999999999999999999", str(2**64), "-5", "9" * 5000):
        cases.append(orders.Case(query={"page": page}, headers=auth))
    statuses = []
    for case in cases:
        response = case.call_and_validate(
            excluded_checks=[positive_data_acceptance, ignored_auth, negative_data_rejection]
        )
        statuses.append(response.status_code)
    # The same Idempotency-Key with two different bodies: the second is the documented 422.
    first = {"person_image": "eA==", "clothing_image": "eA=="}
    for body in (first, {**first, "options": {"quality": "standard"}}):
        case = generate.Case(body=body, media_type="application/json", headers={**auth, "Idempotency-Key": "fz"})
        statuses.append(case.call_and_validate(excluded_checks=[positive_data_acceptance, ignored_auth]).status_code)
    assert 500 not in statuses and set(statuses) <= {200, 400, 413, 422}, statuses
