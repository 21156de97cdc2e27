"""Every code block marked `<!-- test: NAME -->` in an SDK's README, run as it is written (with only the API
key and base URL in the environment, and person.jpg, clothing.jpg, product.png in the working folder)
against a live server with a real worker: what the README shows is what works. The quickstart must stay
under 10 lines."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

from .conftest import JS_SDK, PHP_SDK, PYTHON_SDK, check_image, node, php, run

MARKED = re.compile(r"<!-- test: (?P<name>[\w-]+) -->\n```(?P<lang>\w+)\n(?P<code>.*?)```", re.S)


def examples(readme: Path) -> dict[str, str]:
    found = {m["name"]: m["code"] for m in MARKED.finditer(readme.read_text())}
    assert {"quickstart", "seed-tryon", "seed-catalog"} <= set(found), f"{readme}: marked examples missing"
    assert len([line for line in found["quickstart"].splitlines() if line.strip()]) < 10
    return found


def check_outputs(folder: Path, name: str, stdout: str) -> None:
    if name == "quickstart":
        check_image((folder / "result.jpg").read_bytes(), "JPEG")
    elif name == "seed-tryon":
        assert "Virtual try-on generated successfully!" in stdout and "Done!" in stdout, stdout
        assert re.search(r"Result:? https?://\S+/media/\S+\.jpg", stdout), stdout
    elif name == "seed-catalog":
        images = sorted((folder / "catalog").iterdir())
        assert len(images) == 6, images
        for image in images:
            check_image(image.read_bytes(), "JPEG")
    elif name == "async":
        check_image((folder / "result-async.jpg").read_bytes(), "JPEG")


def run_all(examples_: dict[str, str], folder: Path, command, suffix, api_base: str, api_key: str, **env: str) -> None:
    env = {**os.environ, "FTMV_API_KEY": api_key, "FTMV_BASE_URL": api_base, **env}
    for name, code in examples_.items():
        script = folder / f"{name}{suffix(code)}"
        script.write_text(code)
        result = run([*command, script.name], env=env, cwd=folder, timeout=300)
        check_outputs(folder, name, result.stdout)


@pytest.fixture
def funded(make_account):
    return make_account(credits=40, plan="paid")  # three try-ons and a catalog, with room to spare


@pytest.mark.worker
def test_python_readme(api_base, funded, sdk_worker, photos):
    found = examples(PYTHON_SDK.parent / "README.md")
    assert "async" in found
    folder = photos["person"].parent
    # The SDK from its source folder, as after `pip install ./sdks/python`.
    run_all(found, folder, [sys.executable], lambda _: ".py", api_base, funded.api_key, PYTHONPATH=str(PYTHON_SDK))


@pytest.mark.worker
@pytest.mark.skipif(node() is None, reason="needs Node.js")
def test_js_readme(api_base, funded, sdk_worker, photos):
    found = examples(JS_SDK / "README.md")
    folder = photos["person"].parent
    # As after `npm install ./sdks/js`: node_modules/ftmv is a link to the package folder.
    (folder / "node_modules").mkdir()
    (folder / "node_modules" / "ftmv").symlink_to(JS_SDK, target_is_directory=True)
    run_all(found, folder, ["node"], lambda code: ".cjs" if "require(" in code else ".mjs", api_base, funded.api_key)


@pytest.mark.worker
@pytest.mark.skipif(php() is None, reason="needs php-cli")
def test_php_readme(api_base, funded, sdk_worker, photos):
    found = examples(PHP_SDK / "README.md")
    folder = photos["person"].parent
    # As after `composer require`: vendor/autoload.php maps Ftmv\ to the package's src/ (PSR-4).
    (folder / "vendor").mkdir()
    (folder / "vendor" / "autoload.php").write_text(f"<?php\nrequire {str(PHP_SDK / 'autoload.php')!r};\n")
    run_all(found, folder, ["php"], lambda _: ".php", api_base, funded.api_key)
