"""Torch-side checks: our module against the checkpoint layout, and the export tool. Skipped without torch (CI).

Run them in the export venv: /path/to/exportvenv/bin/python -m pytest tests/fashn_vton/test_torch_side.py
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")
safetensors_torch = pytest.importorskip("safetensors.torch")

from tools.export_fashn_vton import check_parity, export_step, step_examples  # noqa: E402
from tools.fashn_vton_torch.model import FULL, TINY, FashnMMDiT, random_init  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent.parent

# Measured on upstream's TryOnModel() (fashn-AI/fashn-vton-1.5, src/fashn_vton/tryon_mmdit.py, default arguments):
# its state_dict has 366 entries holding 971,813,808 parameters (the "972M" of the model card).
UPSTREAM_STATE_ENTRIES = 366
UPSTREAM_PARAMETERS = 971_813_808


def test_full_size_layout_matches_the_checkpoint():
    with torch.device("meta"):
        model = FashnMMDiT(FULL)
    state = model.state_dict()
    assert len(state) == UPSTREAM_STATE_ENTRIES
    assert sum(p.numel() for p in model.parameters()) == UPSTREAM_PARAMETERS
    # A few names and shapes an operator's model.safetensors has.
    assert tuple(state["x_embedder.proj.weight"].shape) == (1280, 7, 12, 12)
    assert tuple(state["garment_embedder.proj.weight"].shape) == (1280, 4, 12, 12)
    assert tuple(state["double_blocks.7.img_attn.norm.query_norm.scale"].shape) == (128,)
    assert tuple(state["single_blocks.15.linear1.weight"].shape) == (1280 * 7, 1280)
    assert tuple(state["final_layer.adaLN_modulation.1.weight"].shape) == (2560, 1280)
    assert tuple(state["y_embedder.weight"].shape) == (4, 1280)
    assert tuple(state["patch_mixer_token"].shape) == (1, 1, 432)
    assert not [k for k in state if k.startswith("rope_")]  # our constant tables are not part of the checkpoint


def test_strict_load_from_a_bf16_safetensors_file(tmp_path):
    source = FashnMMDiT(TINY).eval()
    random_init(source, 5)
    path = tmp_path / "model.safetensors"
    safetensors_torch.save_file({k: v.to(torch.bfloat16).contiguous() for k, v in source.state_dict().items()}, path)
    target = FashnMMDiT(TINY).eval()
    target.load_state_dict({k: v.float() for k, v in safetensors_torch.load_file(path).items()}, strict=True)
    bad = safetensors_torch.load_file(path)
    bad["double_blocks.0.img_mlp.0.bias"] = bad["double_blocks.0.img_mlp.0.bias"][:-1]
    with pytest.raises(RuntimeError, match="size mismatch"):
        FashnMMDiT(TINY).load_state_dict(bad, strict=True)
    del bad["final_layer.linear.bias"]
    with pytest.raises(RuntimeError, match="Missing key"):
        FashnMMDiT(TINY).load_state_dict(bad, strict=True)


def test_export_parity_and_refusal(tmp_path):
    model = FashnMMDiT(TINY).eval()
    random_init(model, 1)
    examples = step_examples(TINY, 2, 1)
    export_step(model, tmp_path / "g.onnx", examples[0])
    result = check_parity(tmp_path / "g.onnx", model, examples, "float32")
    assert result["max_abs"] < 1e-4
    other = FashnMMDiT(TINY).eval()
    random_init(other, 2)
    with pytest.raises(SystemExit, match="REFUSED"):
        check_parity(tmp_path / "g.onnx", other, examples, "float32")


def test_export_tool_makes_a_bundle_the_engine_accepts(tmp_path):
    out = tmp_path / "bundle"
    cmd = [sys.executable, "tools/export_fashn_vton.py", "--random-init", "--tiny", "--seed", "3", "--out", str(out)]
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["export_parity"]["generator.onnx"]["max_abs"] < 1e-4
    assert manifest["dwpose"]["stand_in"] is True
    assert set(manifest["files"]) == {"generator.onnx", "dwpose/yolox_l.onnx", "dwpose/dw-ll_ucoco_384.onnx"}

    from imaging.tryon.fashn_vton.engine import FashnVtonEngine

    engine = FashnVtonEngine(out)
    engine.check()
    sessions = engine.sessions()
    assert [i.name for i in sessions.generator.get_inputs()][:2] == ["x", "t"]
    # Same seed, same weights: the same ONNX bytes as any other export of that seed.
    again = tmp_path / "again"
    subprocess.run([*cmd[:-1], str(again)], cwd=ROOT, check=True, capture_output=True)
    assert (again / "generator.onnx").read_bytes() == (out / "generator.onnx").read_bytes()
    assert np.isfinite(manifest["export_parity"]["generator.onnx"]["mean_abs"])


def test_committed_fixture_is_what_its_recorded_command_makes(tmp_path):
    fixture = ROOT / "tests" / "fixtures" / "fashn-vton-tiny"
    manifest = json.loads((fixture / "manifest.json").read_text())
    if manifest["versions"]["torch"] != torch.__version__:
        pytest.skip(f"the fixture was exported with torch {manifest['versions']['torch']} (requirements-export.txt)")
    args = manifest["command"].split()[2:]  # after "python tools/export_fashn_vton.py"
    if "--upstream-parity" in args:  # figures measured outside the repository; they do not change the graphs
        i = args.index("--upstream-parity")
        del args[i : i + 2]
    args[args.index("--out") + 1] = str(tmp_path / "again")
    subprocess.run([sys.executable, "tools/export_fashn_vton.py", *args], cwd=ROOT, check=True, capture_output=True)
    again = json.loads((tmp_path / "again" / "manifest.json").read_text())
    assert again["files"] == manifest["files"]  # byte for byte: same sha256 for every file


def test_export_from_a_weights_dir_in_upstreams_layout(tmp_path):
    """The operator's path: model.safetensors (bf16) + dwpose/*.onnx -> bundle; here a tiny checkpoint."""
    weights = tmp_path / "weights"
    (weights / "dwpose").mkdir(parents=True)
    source = FashnMMDiT(TINY).eval()
    random_init(source, 9)
    state = {k: v.to(torch.bfloat16).contiguous() for k, v in source.state_dict().items()}
    safetensors_torch.save_file(state, weights / "model.safetensors")
    fixture = ROOT / "tests" / "fixtures" / "fashn-vton-tiny" / "dwpose"
    for name in ("yolox_l.onnx", "dw-ll_ucoco_384.onnx"):
        (weights / "dwpose" / name).write_bytes((fixture / name).read_bytes())
    out = tmp_path / "bundle"
    cmd = [sys.executable, "tools/export_fashn_vton.py", "--weights-dir", str(weights), "--tiny", "--out", str(out)]
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["weights"]["kind"] == "checkpoint"
    assert manifest["dwpose"]["stand_in"] is False  # copied as given
    assert (out / "dwpose" / "yolox_l.onnx").read_bytes() == (fixture / "yolox_l.onnx").read_bytes()
    # The graph computes with the checkpoint's (bf16-rounded) weights.
    model = FashnMMDiT(TINY).eval()
    model.load_state_dict({k: v.float() for k, v in state.items()}, strict=True)
    examples = step_examples(TINY, 1, 0)
    assert check_parity(out / "generator.onnx", model, examples, "float32")["max_abs"] < 1e-4

    bad = tmp_path / "bad"
    (bad / "dwpose").mkdir(parents=True)
    del state["final_layer.linear.weight"]
    safetensors_torch.save_file(state, bad / "model.safetensors")
    cmd[cmd.index(str(weights))] = str(bad)
    cmd[-1] = str(tmp_path / "x")
    failed = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert failed.returncode != 0 and "Missing key" in failed.stderr
    assert not (tmp_path / "x").exists()
