"""The committed model files are the ones the manifest describes, and they load and run as described."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from imaging.onnx_runtime import MODELS_DIR, get_session

MANIFEST = json.loads((MODELS_DIR / "manifest.json").read_text())
ENTRIES = {entry["file"]: entry for entry in MANIFEST["models"]}


def test_manifest_lists_every_model_file():
    on_disk = {path.name for path in MODELS_DIR.glob("*.onnx")}
    assert on_disk == set(ENTRIES)


def test_licence_files_present():
    assert "Apache License" in (MODELS_DIR / "LICENSE-Apache-2.0.txt").read_text()
    notice = (MODELS_DIR / "NOTICE").read_text()
    for name in ENTRIES:
        assert name in notice


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_sha256_matches_manifest(name):
    digest = hashlib.sha256((MODELS_DIR / name).read_bytes()).hexdigest()
    assert digest == ENTRIES[name]["sha256"]
    assert (MODELS_DIR / name).stat().st_size == ENTRIES[name]["size_bytes"]


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_model_loads_and_runs_with_manifest_shapes(name):
    entry = ENTRIES[name]
    session = get_session(name)
    inputs = {i.name: i for i in session.get_inputs()}
    feed = {}
    for spec in entry["inputs"]:
        assert spec["name"] in inputs
        assert list(inputs[spec["name"]].shape) == spec["shape"]
        feed[spec["name"]] = np.zeros(spec["shape"], np.float32)
    outputs = [spec["name"] for spec in entry["outputs"]]
    results = session.run(outputs, feed)
    for spec, value in zip(entry["outputs"], results, strict=True):
        assert list(value.shape) == spec["shape"], spec["name"]
        assert np.isfinite(value).all()


def test_committed_weights_stay_small():
    total = sum((MODELS_DIR / name).stat().st_size for name in ENTRIES)
    assert total < 40 * 1024 * 1024
