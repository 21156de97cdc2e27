"""The OpenAPI document (GET /api/v1/schema on the live server) is the contract: each SDK must agree with it on
every operation, every field of every response object (and which of them it may rely on), the request's
fields, options and headers, the enums, and the error statuses; and the three SDKs must agree on the error
codes. Each SDK reports its own surface: Python by introspection, JavaScript from its TypeScript source
(sdks/js/scripts/surface.mjs), PHP by reflection (sdks/php/tests/surface.php)."""

from __future__ import annotations

import dataclasses
import inspect
import json
import tomllib
import typing

import pytest
import requests

from .conftest import JS_SDK, PHP_SDK, PYTHON_SDK, node, php, run

API = "/api/v1"
# Response wrappers an SDK may unwrap instead of modelling: get_order returns the Order itself.
WRAPPERS = {"OrderResponse": "order"}


def python_surface() -> dict:
    import ftmv_client
    from ftmv_client import client, errors, models

    def literals(annotation) -> list[str] | None:
        for arg in [annotation, *typing.get_args(annotation)]:
            if typing.get_origin(arg) is typing.Literal:
                return list(typing.get_args(arg))
        return None

    hints = typing.get_type_hints(ftmv_client.Client.generate)
    params = [p for p in inspect.signature(ftmv_client.Client.generate).parameters if p != "self"]
    options = [p for p in params if p in client.OPTION_FIELDS]
    project = tomllib.loads((PYTHON_SDK.parent / "pyproject.toml").read_text())["project"]
    return {
        "versions": [project["version"], ftmv_client.__version__],
        "operations": {name: list(op) for name, op in client.OPERATIONS.items()},
        "error_codes": {code: cls.__name__ for code, cls in errors.ERROR_CODES.items()},
        "error_statuses": {str(status): cls.__name__ for status, cls in errors.ERROR_STATUSES.items()},
        "models": {
            name: {
                "fields": [f.name for f in dataclasses.fields(model) if f.name != "raw"],
                "required": [
                    f.name
                    for f in dataclasses.fields(model)
                    if f.name != "raw" and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
                ],
            }
            for name, model in models.SCHEMAS.items()
        },
        "enums": {
            "style": literals(hints["style"]),
            "quality": literals(hints["quality"]),
            "format": literals(hints["format"]),
            "category": literals(hints["category"]),
            "status": literals(typing.get_type_hints(models.Order)["status"]),
        },
        "generate": {
            "body": [p for p in params if p not in options and p != "idempotency_key"] + ["options"] * bool(options),
            "options": options,
            "headers": ["Idempotency-Key"] if "idempotency_key" in params else [],
        },
        "list_orders": [p for p in inspect.signature(ftmv_client.Client.list_orders).parameters if p != "self"],
    }


def js_surface() -> dict:
    if node() is None:
        pytest.skip("needs Node.js for the JavaScript SDK")
    if not (JS_SDK / "dist" / "esm" / "index.js").exists():
        pytest.fail("the JavaScript SDK is not built: make sdk-deps")
    return json.loads(run(["node", "scripts/surface.mjs"], cwd=JS_SDK).stdout)


def php_surface() -> dict:
    if php() is None:
        pytest.skip("needs php-cli for the PHP SDK")
    return json.loads(run(["php", "tests/surface.php"], cwd=PHP_SDK).stdout)


SURFACES = {"python": python_surface, "js": js_surface, "php": php_surface}


_fetched: dict[str, dict] = {}


@pytest.fixture
def schema(live_server, transactional_db) -> dict:
    """The document as the live server serves it (fetched once per session; the server is one too)."""
    if "schema" not in _fetched:
        response = requests.get(f"{live_server.url}{API}/schema?format=json", timeout=60)
        assert response.status_code == 200, response.text[:500]
        _fetched["schema"] = response.json()
    return _fetched["schema"]


def resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node or "allOf" in node:
        node = node["allOf"][0] if "allOf" in node else node
        if "$ref" in node:
            node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def ref_name(node: dict) -> str | None:
    node = node["allOf"][0] if "allOf" in node else node
    return node["$ref"].rsplit("/", 1)[1] if "$ref" in node else None


def operations(schema: dict) -> dict[str, tuple[str, str, dict]]:
    found = {}
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            if method in ("get", "post", "put", "patch", "delete"):
                found[operation["operationId"]] = (method.upper(), path.removeprefix(API), operation)
    return found


def response_objects(schema: dict) -> set[str]:
    """Every component schema reachable from a 2xx response: what the SDKs hand to their users."""
    seen: set[str] = set()

    def walk(node: dict) -> None:
        name = ref_name(node) if isinstance(node, dict) else None
        if name:
            if name in seen:
                return
            seen.add(name)
        node = resolve(schema, node)
        for child in node.get("properties", {}).values():
            walk(child)
        if "items" in node:
            walk(node["items"])

    for _, _, operation in operations(schema).values():
        for status, response in operation["responses"].items():
            if status.startswith("2"):
                walk(response["content"]["application/json"]["schema"])
    return {name for name in seen if resolve(schema, {"$ref": f"#/x/{name}"}).get("type") == "object"}


@pytest.fixture(params=list(SURFACES))
def surface(request) -> tuple[str, dict]:
    return request.param, SURFACES[request.param]()


def test_versioned_with_the_api(schema, surface):
    """Package metadata and the version the code reports both follow the document's info.version."""
    sdk, found = surface
    assert found["versions"] == [schema["info"]["version"]] * 2, f"{sdk}: versions {found['versions']}"


def test_operations(schema, surface):
    sdk, found = surface
    documented = {op_id: [method, path] for op_id, (method, path, _) in operations(schema).items()}
    assert found["operations"] == documented, f"{sdk}: operations differ from the OpenAPI document"
    list_params = [p["name"] for p in operations(schema)["orders"][2].get("parameters", []) if p["in"] == "query"]
    assert sorted(found["list_orders"]) == sorted(list_params), f"{sdk}: list_orders parameters"


def test_response_models(schema, surface):
    sdk, found = surface
    components = schema["components"]["schemas"]
    objects = response_objects(schema)
    modelled = set(found["models"])
    for wrapper, key in WRAPPERS.items():
        if wrapper not in modelled:  # unwrapped: then the wrapper must be exactly {success, <key>}
            assert set(components[wrapper]["properties"]) == {"success", key}
            objects.discard(wrapper)
    assert modelled == objects, f"{sdk}: models {sorted(modelled)} but the document returns {sorted(objects)}"
    for name, model in found["models"].items():
        documented = set(components[name]["properties"]) - {"success"}  # success: implied by a 2xx
        assert set(model["fields"]) - {"success"} == documented, f"{sdk}: fields of {name}"
        # The SDK may only rely on (require) what the document promises is always there.
        optional = set(model["required"]) - {"success"} - set(components[name].get("required", []))
        assert not optional, f"{sdk}: {name} requires {sorted(optional)}, which the document marks optional"


def test_request_fields_options_headers_and_enums(schema, surface):
    sdk, found = surface
    components = schema["components"]["schemas"]
    generate = operations(schema)["generate"][2]
    body_schema = resolve(schema, generate["requestBody"]["content"]["application/json"]["schema"])
    options_schema = resolve(schema, body_schema["properties"]["options"])
    headers = [p["name"] for p in generate.get("parameters", []) if p["in"] == "header"]
    assert sorted(found["generate"]["body"]) == sorted(body_schema["properties"]), f"{sdk}: generate body fields"
    assert sorted(found["generate"]["options"]) == sorted(options_schema["properties"]), f"{sdk}: generate options"
    assert found["generate"]["headers"] == headers, f"{sdk}: generate headers"
    documented = {
        "style": body_schema["properties"]["style"],
        "quality": options_schema["properties"]["quality"],
        "format": options_schema["properties"]["format"],
        "category": options_schema["properties"]["category"],
        "status": components["Order"]["properties"]["status"],
    }
    for name, field in documented.items():
        values = resolve(schema, field)["enum"]
        assert found["enums"][name] == values, f"{sdk}: {name} is {found['enums'][name]}, the document says {values}"


def test_error_statuses(schema, surface):
    """Every error status the document lists for an operation has a typed error in the SDK, and every
    status-level class the SDK keeps is one of them or a standard 5xx / 403 it can meet from any layer."""
    sdk, found = surface
    documented = {
        status
        for _, _, operation in operations(schema).values()
        for status in operation["responses"]
        if not status.startswith("2")
    }
    missing = documented - set(found["error_statuses"])
    assert not missing, f"{sdk}: no typed error for documented statuses {sorted(missing)}"
    for _, _, operation in operations(schema).values():
        for status, response in operation["responses"].items():
            if not status.startswith("2"):
                assert ref_name(response["content"]["application/json"]["schema"]) == "Error"
    assert set(components_error_fields(schema)) == {"code", "message", "details"}


def components_error_fields(schema: dict) -> list[str]:
    return list(resolve(schema, schema["components"]["schemas"]["Error"]["properties"]["error"])["properties"])


def test_error_codes_agree_across_sdks():
    """One table of codes in all three SDKs, each code mapped to the same kind of error."""
    tables = {name: surface()["error_codes"] for name, surface in SURFACES.items()}
    python = tables["python"]

    def kind(cls: str) -> str:  # ValidationError / ValidationException -> Validation
        return cls.removesuffix("Exception").removesuffix("Error")

    for name, table in tables.items():
        assert list(table) == list(python), f"{name} knows other error codes than the Python SDK"
        assert [kind(cls) for cls in table.values()] == [kind(cls) for cls in python.values()], name


def test_error_codes_match_the_document(schema):
    code = resolve(schema, schema["components"]["schemas"]["ErrorDetail"]["properties"]["code"])
    if "enum" not in code:
        pytest.skip(
            "the OpenAPI document does not enumerate error codes (ErrorDetail.code is a plain string): "
            "each SDK's typed-error test checks the codes against the live server instead"
        )
    from ftmv_client import ERROR_CODES

    assert sorted(ERROR_CODES) == sorted(code["enum"])
