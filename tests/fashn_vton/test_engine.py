"""The FASHN VTON engine end to end on the committed tiny random bundle (CPU, no torch).

With random weights the generated person is noise: these tests check the
machinery (sizes, seeds, steps, paste-back, bundle checks), not the look.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import skimage.data
from PIL import Image

from imaging import image_io
from imaging.errors import PipelineError
from imaging.stages import LABELS
from imaging.tryon import engines, fashn_vton
from imaging.tryon.engines import EngineUnavailable, TryonRequest
from imaging.tryon.fashn_vton import preprocess as pp
from imaging.tryon.fashn_vton.dwpose import Pose
from imaging.tryon.fashn_vton.engine import NAME, person_pose_or_error

TINY = Path(__file__).resolve().parent.parent / "fixtures" / "fashn-vton-tiny"


@pytest.fixture
def use_bundle():
    """Configure the engine with a bundle directory for one test, then put everything back."""

    def configure(path: Path | None) -> fashn_vton.FashnVtonEngine:
        fashn_vton.configure(bundle_dir=path)
        engine = engines.get_engine(NAME)
        assert isinstance(engine, fashn_vton.FashnVtonEngine)
        return engine

    yield configure
    fashn_vton.configure(bundle_dir=None)


@pytest.fixture(scope="module")
def person() -> np.ndarray:
    # The astronaut on a wide canvas: plenty of photo far from the person.
    astro = skimage.data.astronaut()
    canvas = np.full((512, 1000, 3), (90, 120, 150), np.uint8)  # under 1024: "standard" keeps its size
    canvas[:, 300:812] = astro
    cv2.circle(canvas, (100, 100), 40, (250, 30, 30), -1)  # something to keep, far from the person
    return canvas


@pytest.fixture(scope="module")
def garment() -> np.ndarray:
    img = np.full((400, 400, 3), 255, np.uint8)
    pts = [(160, 50), (240, 50), (330, 110), (300, 160), (270, 140), (270, 360), (130, 360), (130, 140), (100, 160)]
    cv2.fillPoly(img, [np.array(pts, np.int32)], (30, 160, 60))
    return img


def run(engine, person, garment, **kw):
    events: list[tuple[str, int]] = []
    request = TryonRequest(
        person=person, garment=garment, category=kw.get("category", "tops"), quality="standard", seed=kw.get("seed", 7)
    )
    return engine.run(request, progress=lambda s, p: events.append((s, p))), events


def test_end_to_end_output(use_bundle, person, garment, tmp_path):
    engine = use_bundle(TINY)
    engine.check()
    result, events = run(engine, person, garment)
    assert result.image.shape == person.shape and result.image.dtype == np.uint8
    assert result.category == "tops"
    assert Image.open(__import__("io").BytesIO(image_io.encode_image(result.image, "jpg"))).size == (1000, 512)
    # Progress: one "sample" report per step (standard = 20 steps), rising, between the pose and the paste.
    samples = [p for s, p in events if s == "sample"]
    assert len(samples) == result.info["steps"] == 20 == len(result.info["step_seconds"])
    assert samples == sorted(samples) and samples[-1] == 95
    assert [s for s, _ in events][:2] == ["pose", "garment"] and events[-1][0] == "paste"
    assert {s for s, _ in events} <= {s for s, _ in engine.stages}
    assert all(stage in LABELS for stage, _ in engine.stages)  # the one stage table knows them
    assert result.info["provider"] == "CPUExecutionProvider" and result.info["seed"] == 7
    assert {"pose", "garment", "sample", "paste", "total"} <= set(result.timings)


def test_pixels_away_from_the_person_are_untouched(use_bundle, person, garment):
    result, _ = run(use_bundle(TINY), person, garment)
    edited = result.edited_mask
    assert edited is not None and edited.shape == person.shape[:2]
    assert 0.02 < edited.mean() < 0.9  # a region, not nothing and not the whole photo
    np.testing.assert_array_equal(result.image[~edited], person[~edited])
    assert not edited[100, 100]  # the red disc far left
    assert np.abs(result.image[edited].astype(int) - person[edited]).mean() > 5  # and the region did change


def test_seeds(use_bundle, person, garment):
    engine = use_bundle(TINY)
    unseeded = engine.run(TryonRequest(person=person, garment=garment, category="tops", quality="standard"))
    again = engine.run(
        TryonRequest(person=person, garment=garment, category="tops", quality="standard", seed=unseeded.info["seed"])
    )
    np.testing.assert_array_equal(unseeded.image, again.image)  # the seed it reports makes the same image
    a, _ = run(engine, person, garment, seed=1)
    b, _ = run(engine, person, garment, seed=1)
    c, _ = run(engine, person, garment, seed=2)
    np.testing.assert_array_equal(a.image, b.image)
    assert np.abs(a.image.astype(int) - c.image).mean() > 1


def test_category_changes_the_output(use_bundle, person, garment):
    engine = use_bundle(TINY)
    tops, _ = run(engine, person, garment, category="tops")
    dress, _ = run(engine, person, garment, category="one-pieces")
    assert dress.category == "one-pieces"
    assert np.abs(tops.image.astype(int) - dress.image).mean() > 0.5


def test_quality_sets_the_steps(use_bundle, person, garment):
    engine = use_bundle(TINY)
    request = TryonRequest(person=person, garment=garment, category="tops", quality="high", seed=3)
    assert engine.run(request).info["steps"] == 30
    with pytest.raises(PipelineError) as exc:
        engine.run(TryonRequest(person=person, garment=garment, category="tops", quality="ultra"))
    assert exc.value.code == "BAD_QUALITY"
    with pytest.raises(PipelineError) as exc:
        engine.run(TryonRequest(person=person, garment=garment, category="hats"))
    assert exc.value.code == "BAD_CATEGORY"


def test_no_person_is_a_user_error():
    with pytest.raises(PipelineError) as exc:
        person_pose_or_error(Pose.empty())
    assert exc.value.code == "NO_PERSON"


def test_missing_bundle_is_refused(use_bundle, tmp_path):
    with pytest.raises(EngineUnavailable, match="no model bundle configured"):
        use_bundle(None).check()
    with pytest.raises(EngineUnavailable, match="does not exist"):
        use_bundle(tmp_path / "nowhere").check()
    (tmp_path / "empty").mkdir()
    with pytest.raises(EngineUnavailable, match="manifest.json is missing"):
        use_bundle(tmp_path / "empty").check()


def test_env_var_is_the_fallback(use_bundle, monkeypatch):
    monkeypatch.setenv(fashn_vton.ENV_DIR, str(TINY))
    engine = use_bundle(None)
    engine.check()
    assert engine.describe()["bundle_dir"] == str(TINY)


@pytest.mark.parametrize("damage", ["flip_byte", "delete_file", "truncate"])
def test_corrupt_bundle_is_refused(use_bundle, tmp_path, damage):
    bundle = tmp_path / "bundle"
    shutil.copytree(TINY, bundle)
    target = bundle / "dwpose" / "yolox_l.onnx"
    if damage == "flip_byte":
        data = bytearray(target.read_bytes())
        data[len(data) // 2] ^= 0xFF
        target.write_bytes(bytes(data))
        match = "corrupt: sha256"
    elif damage == "delete_file":
        target.unlink()
        match = "is missing"
    else:
        target.write_bytes(target.read_bytes()[:-10])
        match = "bytes, the manifest says"
    engine = use_bundle(bundle)
    with pytest.raises(EngineUnavailable, match=match):
        engine.check()
    assert engine.describe()["bundle_ok"] is False
    with pytest.raises(EngineUnavailable):  # the verdict is kept: no order runs on it
        engine.run(TryonRequest(person=np.zeros((64, 64, 3), np.uint8), garment=np.zeros((64, 64, 3), np.uint8)))


def test_wrong_manifest_format_is_refused(use_bundle, tmp_path):
    bundle = tmp_path / "bundle"
    shutil.copytree(TINY, bundle)
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["format_version"] = 99
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(EngineUnavailable, match="not a version-1"):
        use_bundle(bundle).check()


def test_auto_prefers_it_only_with_cuda(use_bundle, monkeypatch):
    use_bundle(TINY)
    assert fashn_vton.auto_priority() < 0  # CPU-only onnxruntime here
    assert engines.select_engine("auto").name == "classical"
    assert engines.select_engine(NAME).name == NAME  # asked by name, it runs on CPU
    monkeypatch.setattr(
        fashn_vton.onnx_runtime, "available_providers", lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"]
    )
    use_bundle(TINY)
    assert engines.select_engine("auto").name == NAME
    use_bundle(None)  # CUDA but no bundle: auto falls back
    assert engines.select_engine("auto").name == "classical"


def test_describe_reports_bundle_and_provider(use_bundle, person, garment):
    engine = use_bundle(TINY)
    run(engine, person, garment)
    info = engine.describe()
    assert info["engine"] == NAME and info["bundle_ok"] is True
    assert info["provider"] == "CPUExecutionProvider" and info["precision"] == "float32"
    assert info["bundle"]["dwpose_stand_in"] is True  # type: ignore[index]
    assert info["quality_steps"] == {"standard": 20, "high": 30}


def test_paste_back_blends_only_inside_the_region():
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (300, 200, 3), dtype=np.uint8)
    generated = np.zeros((150, 100, 3), np.uint8)
    out, edited = pp.paste_back(base, generated, (50, 60, 150, 260), feather=8)
    assert edited[60:260, 50:150].all() and edited.sum() == 100 * 200
    np.testing.assert_array_equal(out[~edited], base[~edited])
    assert (out[100:220, 70:130] == 0).all()  # the core is the generated image
    # Sides on the frame are not feathered: a region touching the bottom edge is fully replaced there.
    out, edited = pp.paste_back(base, generated, (50, 60, 150, 300), feather=8)
    assert (out[299, 70:130] == 0).all()


def test_resize_pad_roundtrip():
    img = np.arange(90 * 40 * 3, dtype=np.uint8).reshape(90, 40, 3)
    out, pad = pp.resize_pad(img, 144, 96)
    assert out.shape == (144, 96, 3) and (pad.left, pad.right, pad.top, pad.bottom) == (16, 16, 0, 0)
    assert out[:, :16].max() == 0 and pp.unpad(out, pad).shape == (144, 64, 3)
    x = pp.to_model(out)
    assert x.shape == (1, 3, 144, 96) and x.min() >= -1 and x.max() <= 1
    # Back to uint8 truncates as torchvision's to_pil_image does: float32 error makes some values 1 less.
    diff = pp.from_model(x).astype(int) - out
    assert set(np.unique(diff)) <= {-1, 0} and (diff == 0).mean() > 0.5
