"""The committed model files are the ones the manifest describes, and they load and run as described."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from imaging.models import model
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


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_registry_describes_what_the_session_takes_and_gives(name):
    spec = model(name)
    session = get_session(name)
    (session_input,) = session.get_inputs()
    assert spec.input.name == session_input.name
    assert list(spec.input.shape) == session_input.shape
    assert spec.input.layout in ("NHWC", "NCHW")
    height, width = spec.input.size
    channels_at = 3 if spec.input.layout == "NHWC" else 1
    assert session_input.shape[channels_at] == 3
    # The registry's tensor for an image of the input's size is exactly what the session accepts.
    tensor = spec.input.tensor(np.full((height, width, 3), 128, np.uint8))
    assert list(tensor.shape) == session_input.shape and tensor.dtype == np.float32
    assert {o.name for o in spec.outputs} <= {o.name for o in session.get_outputs()}
    assert len({o.role for o in spec.outputs}) == len(spec.outputs)
    with pytest.raises(ValueError):
        spec.input.tensor(np.zeros((height + 1, width, 3), np.uint8))


@pytest.mark.parametrize(
    ("name", "black", "white"),
    [("pose_detection.onnx", -1.0, 1.0), ("pose_landmark_full.onnx", 0.0, 1.0)],
)
def test_blazepose_normalisation_maps_pixels_to_the_documented_range(name, black, white):
    spec = model(name)
    height, width = spec.input.size
    image = np.zeros((height, width, 3), np.uint8)
    image[: height // 2] = 255
    tensor = spec.input.tensor(image)
    assert tensor.min() == pytest.approx(black) and tensor.max() == pytest.approx(white)


def test_u2net_normalisation_is_imagenet_statistics_after_scaling_by_the_image_maximum():
    spec = model("u2netp.onnx")
    height, width = spec.input.size
    grey = np.full((height, width, 3), 100, np.uint8)  # its own maximum: 1.0 after scaling
    tensor = spec.input.tensor(grey)
    expected = (1.0 - np.array([0.485, 0.456, 0.406])) / np.array([0.229, 0.224, 0.225])
    assert tensor.shape == (1, 3, height, width)
    assert np.allclose(tensor[0, :, 0, 0], expected, atol=1e-5)
