"""Export FASHN VTON v1.5 to a model bundle the serving engine (imaging/tryon/fashn_vton) runs with ONNX Runtime.

Run in a throwaway venv with torch (never a runtime dependency of the service):

    python3 -m venv /tmp/exportvenv && /tmp/exportvenv/bin/pip install -r requirements-export.txt
    # the operator's download (upstream's scripts/download_weights.py): model.safetensors + dwpose/*.onnx
    /tmp/exportvenv/bin/python tools/export_fashn_vton.py --weights-dir /srv/fashn-weights --out /srv/fashn-bundle
    # tests: our module with random weights, reduced size, random DWPose stand-ins
    /tmp/exportvenv/bin/python tools/export_fashn_vton.py --random-init --tiny --seed 0 \
        --out tests/fixtures/fashn-vton-tiny

The bundle: ``generator.onnx`` (one guided Euler step, float32; external data in
``generator.onnx.data`` for the full model), optionally ``generator_fp16.onnx``
(the same step with a float16 generator, for CUDA), ``dwpose/yolox_l.onnx`` and
``dwpose/dw-ll_ucoco_384.onnx``, and ``manifest.json`` (configuration, sha256 of
every file, licences, input/output spec, export parity). Before writing, the
exported graphs are run with ONNX Runtime against the torch module on the same
inputs; a graph that disagrees beyond the tolerance is refused and nothing is written.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import numpy_helper

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.fashn_vton_torch.dwpose_standins import DETECTOR_INPUT, POSE_INPUT, build_standins  # noqa: E402
from tools.fashn_vton_torch.model import (  # noqa: E402
    FULL,
    STEP_INPUTS,
    STEP_OUTPUTS,
    TINY,
    FashnMMDiT,
    GuidedEulerStep,
    MMDiTConfig,
    random_init,
    step_input_shapes,
)

BUNDLE_FORMAT = "ftmv-fashn-vton-bundle"
BUNDLE_VERSION = 1
OPSET = 18
# Above this the protobuf limit (2 GiB) is near: weights go to one external data file.
EXTERNAL_DATA_BYTES = 1 << 30
DETECTOR_FILE = "dwpose/yolox_l.onnx"
POSE_FILE = "dwpose/dw-ll_ucoco_384.onnx"
# Allowed difference on x_next between ONNX Runtime and torch float32 (dt = 1, so on the guided velocity):
# float32 absolute; float16 relative to the velocity's largest magnitude (half precision keeps ~3 digits,
# and errors compound over 24+ blocks).
TOLERANCE = {"float32": 1e-3, "float16": 0.05}

# Upstream's sampling defaults (src/fashn_vton/pipeline.py TryOnPipeline.__call__ / _sample):
# 30 steps, guidance 1.5, no guidance on the last step, schedule shift mu 1.5.
SAMPLING = {
    "default_steps": 30,
    "guidance_scale": 1.5,
    "skip_guidance_last_steps": 1,
    "time_shift_mu": 1.5,
    # Our choice: options.quality -> steps. Upstream calls 20 "fast" and 30 "balanced".
    "quality_steps": {"standard": 20, "high": 30},
}

LICENCES = {
    "generator": "FASHN VTON v1.5 weights and architecture: Apache-2.0 (fashn-AI/fashn-vton-1.5; "
    "Hugging Face fashn-ai/fashn-vton-1.5)",
    "dwpose": "DWPose (IDEA-Research/DWPose) yolox_l.onnx and dw-ll_ucoco_384.onnx: Apache-2.0",
    "export_code": "ours (ftmv); no upstream code in the bundle or the repository",
}


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_generator(args: argparse.Namespace) -> tuple[FashnMMDiT, dict[str, object]]:
    if args.random_init:
        config = TINY if args.tiny else FULL
        model = FashnMMDiT(config).eval()
        random_init(model, args.seed)
        return model, {"kind": "random-init", "seed": args.seed, "tiny": bool(args.tiny)}
    from safetensors.torch import load_file

    weights = args.weights_dir / "model.safetensors"
    if not weights.is_file():
        raise SystemExit(f"missing {weights} (upstream's scripts/download_weights.py puts it there)")
    model = FashnMMDiT(TINY if args.tiny else FULL).eval()
    state = {k: v.float() for k, v in load_file(str(weights)).items()}
    model.load_state_dict(state, strict=True)  # names and shapes must match upstream's checkpoint exactly
    return model, {"kind": "checkpoint", "file": "model.safetensors", "sha256": sha256_file(weights)}


def step_examples(config: MMDiTConfig, cases: int, seed: int) -> list[tuple[torch.Tensor, ...]]:
    """Inputs for the parity check: images in [-1, 1], poses in [-1, 1], t, dt and guidance spread over their range."""
    gen = torch.Generator().manual_seed(seed + 1000)
    out = []
    for i in range(cases):
        args = []
        for name, (shape, dtype) in step_input_shapes(config).items():
            if name == "x":
                args.append(torch.randn(shape, generator=gen))
            elif name == "t":
                args.append(torch.tensor([(i + 0.5) / cases], dtype=torch.float32))
            elif name == "dt":
                args.append(torch.tensor([1.0]))  # x_next - x is then the guided velocity itself
            elif name == "guidance":
                args.append(torch.tensor([1.5 if i % 2 == 0 else 1.0]))
            elif dtype == "int64":
                args.append(torch.tensor([i % 3 + 1]))
            else:
                args.append(torch.rand(shape, generator=gen) * 2 - 1)
        out.append(tuple(args))
    return out


def export_step(model: FashnMMDiT, path: Path, example: tuple[torch.Tensor, ...]) -> None:
    """Export one guided Euler step; weights go to ``<name>.data`` when the model is large."""
    step = GuidedEulerStep(model).eval()
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "step.onnx"
        with torch.no_grad():
            torch.onnx.export(
                step,
                example,
                str(raw),
                input_names=list(STEP_INPUTS),
                output_names=list(STEP_OUTPUTS),
                opset_version=OPSET,
                dynamo=False,  # the TorchScript exporter: no onnxscript needed, static shapes are what we want
            )
        graph = onnx.load(str(raw))  # pulls in any external data torch wrote beside it
        saved = share_constants(graph.graph)
        print(f"  {path.name}: {saved / 2**20:.1f} MiB of repeated constants shared")
        size = sum(t.ByteSize() for t in graph.graph.initializer)
        if size > EXTERNAL_DATA_BYTES:
            onnx.save_model(
                graph, str(path), save_as_external_data=True, all_tensors_to_one_file=True, location=path.name + ".data"
            )
        else:
            onnx.save_model(graph, str(path))


def share_constants(graph: onnx.GraphProto, min_bytes: int = 1024) -> int:
    """Turn repeated large Constant nodes into one shared initializer each; returns the bytes saved.

    The TorchScript exporter inlines a non-persistent buffer (our RoPE tables, which
    must stay out of the checkpoint's state dict) as a new Constant at every use:
    4 per block, 385 MB of copies at full size. Equal tensors are found by content.
    """
    by_content: dict[tuple[int, tuple[int, ...], str], str] = {}
    renamed: dict[str, str] = {}
    kept, saved = [], 0
    for node in graph.node:
        attr = node.attribute[0] if node.op_type == "Constant" and len(node.attribute) == 1 else None
        if attr is None or attr.name != "value" or attr.t.ByteSize() < min_bytes:
            kept.append(node)
            continue
        array = numpy_helper.to_array(attr.t)
        key = (attr.t.data_type, tuple(attr.t.dims), hashlib.sha256(array.tobytes()).hexdigest())
        if key in by_content:
            renamed[node.output[0]] = by_content[key]
            saved += attr.t.ByteSize()
        else:
            by_content[key] = node.output[0]
            graph.initializer.append(numpy_helper.from_array(array, name=node.output[0]))
    for node in kept:
        for i, name in enumerate(node.input):
            if name in renamed:
                node.input[i] = renamed[name]
    for out in graph.output:
        if out.name in renamed:
            raise ValueError(f"graph output {out.name} is a shared constant")
    del graph.node[:]
    graph.node.extend(kept)
    return saved


def check_parity(
    path: Path, reference: FashnMMDiT, examples: list[tuple[torch.Tensor, ...]], dtype: str
) -> dict[str, object]:
    """ONNX Runtime (CPU) vs our torch module in float32 on the same inputs."""
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
    step = GuidedEulerStep(reference).eval()
    worst, means, scale = 0.0, [], 0.0
    for ex in examples:
        feed = {name: t.numpy() for name, t in zip(STEP_INPUTS, ex, strict=True)}
        got = session.run(None, feed)[0]
        with torch.no_grad():
            want = step(*ex).numpy()
        diff = np.abs(got.astype(np.float64) - want)
        worst = max(worst, float(diff.max()))
        means.append(float(diff.mean()))
        scale = max(scale, float(np.abs(want - ex[0].numpy()).max()))
    measured = worst if dtype == "float32" else worst / max(scale, 1e-12)
    result = {
        "compared_to": "torch float32, same weights and inputs (dt=1: x_next - x is the guided velocity)",
        "provider": "CPUExecutionProvider",
        "cases": len(examples),
        "max_abs": worst,
        "mean_abs": float(np.mean(means)),
        "velocity_max_abs": scale,
        "checked": "max_abs" if dtype == "float32" else "max_abs / velocity_max_abs",
        "tolerance": TOLERANCE[dtype],
    }
    if not np.isfinite(measured) or measured > TOLERANCE[dtype]:
        raise SystemExit(f"REFUSED: {path.name} disagrees with torch: {measured:.3e} > {TOLERANCE[dtype]}")
    return result


def export_standins(out: Path, seed: int) -> dict[str, object]:
    detector, keypoints = build_standins(seed)
    (out / "dwpose").mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(
            detector,
            (torch.rand(DETECTOR_INPUT) * 255,),
            str(out / DETECTOR_FILE),
            input_names=["images"],
            output_names=["output"],
            opset_version=OPSET,
            dynamo=False,
        )
        torch.onnx.export(
            keypoints,
            (torch.randn(POSE_INPUT),),
            str(out / POSE_FILE),
            input_names=["input"],
            output_names=["simcc_x", "simcc_y"],
            opset_version=OPSET,
            dynamo=False,
        )
    # The stand-ins are checked like the generator: ONNX Runtime against torch.
    gen = torch.Generator().manual_seed(seed)
    img = torch.rand(DETECTOR_INPUT, generator=gen) * 255
    det = ort.InferenceSession(str(out / DETECTOR_FILE), providers=["CPUExecutionProvider"])
    d = float(np.abs(det.run(None, {"images": img.numpy()})[0] - detector(img).detach().numpy()).max())
    crop = torch.randn(POSE_INPUT, generator=gen)
    pose = ort.InferenceSession(str(out / POSE_FILE), providers=["CPUExecutionProvider"])
    got = pose.run(None, {"input": crop.numpy()})
    want = [t.detach().numpy() for t in keypoints(crop)]
    p = max(float(np.abs(a - b).max()) for a, b in zip(got, want, strict=True))
    if max(d, p) > 1e-4:
        raise SystemExit(f"REFUSED: DWPose stand-ins disagree with torch ({d:.2e}, {p:.2e})")
    return {
        "stand_in": True,
        "note": "random-weight stand-ins with DWPose's input/output names and shapes (tests only; they find no "
        "real people). See tools/fashn_vton_torch/dwpose_standins.py.",
        "seed": seed,
        "parity_max_abs": {"detector": d, "keypoints": p},
    }


def copy_dwpose(weights_dir: Path, out: Path) -> dict[str, object]:
    (out / "dwpose").mkdir(parents=True, exist_ok=True)
    for rel in (DETECTOR_FILE, POSE_FILE):
        src = weights_dir / rel
        if not src.is_file():
            raise SystemExit(f"missing {src} (upstream's scripts/download_weights.py puts it there)")
        shutil.copyfile(src, out / rel)
    return {"stand_in": False, "source": "copied from the weights directory"}


def io_spec(config: MMDiTConfig) -> dict[str, object]:
    inputs = {name: {"shape": shape, "dtype": dtype} for name, (shape, dtype) in step_input_shapes(config).items()}
    return {
        "inputs": inputs,
        "outputs": {"x_next": {"shape": inputs["x"]["shape"], "dtype": "float32"}},
        "meaning": "x_next = x + dt * (v_u + guidance * (v_c - v_u)); v_c, v_u from one batch of two "
        "(conditional; unconditional = conditions zeroed and category 0). Images in [-1, 1] (RGB), "
        "pose images 1 channel in [-1, 1], category 1 tops, 2 bottoms, 3 one-pieces; t runs 0 (noise) -> 1 (image).",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--weights-dir", type=Path, help="upstream layout: model.safetensors, dwpose/*.onnx")
    source.add_argument("--random-init", action="store_true", help="our module with random weights (tests, timing)")
    parser.add_argument(
        "--tiny", action="store_true", help="the reduced test configuration (with --weights-dir: a tiny checkpoint)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fp16", action="store_true", help="also write generator_fp16.onnx (for CUDA)")
    parser.add_argument("--parity-cases", type=int, default=0, help="inputs compared (default 3 tiny, 1 full)")
    parser.add_argument("--upstream-parity", type=Path, help="JSON of figures measured against upstream, recorded")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    if args.out.exists() and any(args.out.iterdir()):
        parser.error(f"{args.out} is not empty")

    started = time.time()
    torch.set_grad_enabled(False)
    model, weights = load_generator(args)
    config = model.config
    cases = args.parity_cases or (3 if config != FULL else 1)
    examples = step_examples(config, cases, args.seed)

    with tempfile.TemporaryDirectory(dir=args.out.parent if args.out.parent.exists() else None) as tmp:
        stage = Path(tmp)
        print(f"exporting the generator step ({sum(p.numel() for p in model.parameters()):,} parameters)...")
        export_step(model, stage / "generator.onnx", examples[0])
        parity = {"generator.onnx": check_parity(stage / "generator.onnx", model, examples, "float32")}
        print(f"  generator.onnx vs torch: max abs {parity['generator.onnx']['max_abs']:.3e}")
        generators = {"float32": "generator.onnx"}
        if args.fp16:
            half = FashnMMDiT(config).eval()
            half.load_state_dict(model.state_dict())
            half.half()
            export_step(half, stage / "generator_fp16.onnx", examples[0])
            parity["generator_fp16.onnx"] = check_parity(stage / "generator_fp16.onnx", model, examples, "float16")
            print(f"  generator_fp16.onnx vs torch fp32: max abs {parity['generator_fp16.onnx']['max_abs']:.3e}")
            generators["float16"] = "generator_fp16.onnx"
        dwpose = export_standins(stage, args.seed) if args.random_init else copy_dwpose(args.weights_dir, stage)

        files = {
            str(p.relative_to(stage)): {"sha256": sha256_file(p), "bytes": p.stat().st_size}
            for p in sorted(stage.rglob("*"))
            if p.is_file()
        }
        manifest = {
            "format": BUNDLE_FORMAT,
            "format_version": BUNDLE_VERSION,
            "engine": "fashn-vton-1.5",
            "created_by": "tools/export_fashn_vton.py",
            "command": "python tools/export_fashn_vton.py " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
            "versions": {"torch": torch.__version__, "onnx": onnx.__version__, "onnxruntime": ort.__version__},
            "weights": weights,
            "config": config.to_dict(),
            "generators": generators,
            "dwpose": {"detector": DETECTOR_FILE, "keypoints": POSE_FILE, **dwpose},
            "io": io_spec(config),
            "sampling": SAMPLING,
            "licences": LICENCES,
            "export_parity": parity,
            "files": files,
        }
        if args.upstream_parity:
            manifest["upstream_parity"] = json.loads(args.upstream_parity.read_text())
        (stage / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        args.out.mkdir(parents=True, exist_ok=True)
        for p in sorted(stage.rglob("*")):
            # onnx writes external data owner-only (0600); a worker running as another user must read it.
            p.chmod(0o755 if p.is_dir() else 0o644)
        for p in sorted(stage.iterdir()):
            shutil.move(str(p), args.out / p.name)
    print(f"bundle written to {args.out} in {time.time() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
