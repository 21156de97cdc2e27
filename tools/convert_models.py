#!/usr/bin/env python3
"""Convert MediaPipe's BlazePose TFLite models to ONNX and check them against TFLite.

Rerunnable by anyone with network access to PyPI:

    python3.11 tools/convert_models.py            # builds /tmp/convert-venv, converts, checks, writes models/

What it does:
1. Creates a THROWAWAY build venv (default ``/tmp/convert-venv``, never the project ``.venv``) with
   ``tensorflow-cpu==2.21.*`` and ``tf2onnx==1.17.*`` and re-runs itself inside it.
2. ``pip download --no-deps mediapipe==0.10.21`` and unzips the two .tflite files (the wheel is never installed:
   as a runtime dependency mediapipe pins numpy<2 and protobuf<5 and pulls jax).
3. ``pose_landmark_full.tflite`` converts directly with tf2onnx (opset 17).
   ``pose_detection.tflite`` stores some weights sparsely (DENSIFY ops) and tf2onnx crashes on them: the dense
   tensors are read out of the TFLite interpreter (XNNPACK delegate OFF: with it on the values come back wrong),
   written into a rewritten flatbuffer as plain constants, and each DENSIFY op becomes an identity (removed).
4. Runs every converted model and the TFLite interpreter on the same inputs (random + a synthetic person-like
   image) and fails if any output differs by more than the tolerance.
5. Writes ``models/<name>.onnx`` and refreshes ``models/manifest.json`` (sha256 of every model file).

The heavy landmark model (npm ``@mediapipe/pose``, ~55 MB as fp32 ONNX) is not converted: committed weights stay
under ~40 MB in all.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MODELS = REPO / "models"
# onnxruntime only to compare the converted models with TFLite.
BUILD_REQUIREMENTS = ["tensorflow-cpu==2.21.*", "tf2onnx==1.17.*", "onnxruntime==1.32.*"]
MEDIAPIPE = "mediapipe==0.10.21"
OPSET = 17

# name -> (path inside the mediapipe wheel, tolerance on max |onnx - tflite| / max(1, max |tflite|) per output)
TFLITE_MODELS = {
    "pose_detection": ("mediapipe/modules/pose_detection/pose_detection.tflite", 1e-3),
    "pose_landmark_full": ("mediapipe/modules/pose_landmark/pose_landmark_full.tflite", 1e-3),
}


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --------------------------------------------------------------------------- outside the build venv


def ensure_venv(venv: Path) -> Path:
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"creating build venv {venv}", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    probe = subprocess.run([str(python), "-c", "import tensorflow, tf2onnx, onnxruntime"], capture_output=True)
    if probe.returncode != 0:
        print(f"installing {' '.join(BUILD_REQUIREMENTS)} (large: ~600 MB)", flush=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *BUILD_REQUIREMENTS], check=True)
    return python


def fetch_tflite(work: Path) -> dict[str, Path]:
    wheels = list(work.glob("mediapipe-0.10.21-*.whl"))
    if not wheels:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "-q",
                "--no-deps",
                "--only-binary=:all:",
                "--python-version",
                "3.11",
                "-d",
                str(work),
                MEDIAPIPE,
            ],
            check=True,
        )
        wheels = list(work.glob("mediapipe-0.10.21-*.whl"))
    out = {}
    with zipfile.ZipFile(wheels[0]) as wheel:
        for name, (inner, _) in TFLITE_MODELS.items():
            target = work / f"{name}.tflite"
            target.write_bytes(wheel.read(inner))
            out[name] = target
        (work / "mediapipe-LICENSE").write_bytes(wheel.read("mediapipe-0.10.21.dist-info/LICENSE"))
    return out


# --------------------------------------------------------------------------- inside the build venv


def dense_weights(tflite_path: Path) -> dict:
    """Output tensor index -> dense values, for every DENSIFY op of the model."""
    import numpy as np
    import tensorflow as tf
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model(str(tflite_path))
    codes = {
        i
        for i, code in enumerate(model.operatorCodes)
        if max(code.builtinCode, code.deprecatedBuiltinCode) == schema.BuiltinOperator.DENSIFY
    }
    outputs = [op.outputs[0] for op in model.subgraphs[0].operators if op.opcodeIndex in codes]
    # XNNPACK OFF: with the default delegate the densified values read back wrong.
    interpreter = tf.lite.Interpreter(
        model_path=str(tflite_path),
        experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
        experimental_preserve_all_tensors=True,
    )
    interpreter.allocate_tensors()
    for detail in interpreter.get_input_details():
        interpreter.set_tensor(detail["index"], np.zeros(detail["shape"], detail["dtype"]))
    interpreter.invoke()
    return {index: interpreter.get_tensor(index).copy() for index in outputs}


def densified_model(tflite_path: Path, out_path: Path) -> int:
    """Rewrite the flatbuffer with DENSIFY outputs as constants and the DENSIFY ops removed."""
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    dense = dense_weights(tflite_path)
    model = flatbuffer_utils.read_model(str(tflite_path))
    graph = model.subgraphs[0]
    codes = {
        i
        for i, code in enumerate(model.operatorCodes)
        if max(code.builtinCode, code.deprecatedBuiltinCode) == schema.BuiltinOperator.DENSIFY
    }
    kept = []
    for op in graph.operators:
        if op.opcodeIndex not in codes:
            kept.append(op)
            continue
        sparse_index, dense_index = op.inputs[0], op.outputs[0]
        buffer = schema.BufferT()
        buffer.data = list(dense[dense_index].tobytes())
        model.buffers.append(buffer)
        graph.tensors[dense_index].buffer = len(model.buffers) - 1
        # The sparse source tensor is now unused, but tf2onnx parses every constant: give it the dense data too.
        graph.tensors[sparse_index].buffer = len(model.buffers) - 1
        graph.tensors[sparse_index].sparsity = None
    graph.operators = kept
    flatbuffer_utils.write_model(model, str(out_path))
    return len(dense)


def convert(tflite_path: Path, onnx_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "tf2onnx.convert",
            "--tflite",
            str(tflite_path),
            "--output",
            str(onnx_path),
            "--opset",
            str(OPSET),
        ],
        check=True,
    )


def check(tflite_path: Path, onnx_path: Path, tolerance: float) -> tuple[float, dict]:
    """Max abs difference TFLite vs ONNX over a few inputs; also returns the ONNX I/O spec."""
    import numpy as np
    import onnxruntime as ort
    import tensorflow as tf

    interpreter = tf.lite.Interpreter(
        model_path=str(tflite_path),
        experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
    )
    interpreter.allocate_tensors()
    (input_detail,) = interpreter.get_input_details()
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    onnx_outputs = [o.name for o in session.get_outputs()]
    shape = tuple(input_detail["shape"])
    rng = np.random.default_rng(0)
    # A crude person: skin-ish head, a dark torso and legs on a light background, in the model's value range.
    h, w = shape[1], shape[2]
    person = np.full(shape, 0.85, np.float32)
    yy, xx = np.mgrid[:h, :w] / np.array([h, w]).reshape(2, 1, 1)
    head = (yy - 0.18) ** 2 + (xx - 0.5) ** 2 < 0.07**2
    torso = (abs(xx - 0.5) < 0.14) & (yy > 0.27) & (yy < 0.6)
    legs = (abs(xx - 0.5) < 0.11) & (yy >= 0.6) & (yy < 0.95)
    person[0][head] = (0.85, 0.65, 0.55)
    person[0][torso] = (0.2, 0.25, 0.5)
    person[0][legs] = (0.15, 0.15, 0.2)
    low, high = (-1.0, 1.0) if "detection" in tflite_path.name else (0.0, 1.0)
    inputs = [rng.uniform(low, high, shape).astype(np.float32) for _ in range(3)]
    inputs.append((person * (high - low) + low).astype(np.float32))
    worst = 0.0
    for x in inputs:
        interpreter.set_tensor(input_detail["index"], x)
        interpreter.invoke()
        expected = {d["name"]: interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()}
        got = dict(zip(onnx_outputs, session.run(None, {session.get_inputs()[0].name: x}), strict=True))
        for name, value in expected.items():
            diff = float(np.max(np.abs(value - got[name])))
            # The segmentation logits reach ~1e3, so the error is taken relative to the output's range (at least 1).
            scaled = diff / max(1.0, float(np.max(np.abs(value))))
            print(f"    {name} {value.shape}: max abs diff {diff:.2e}, values up to {np.max(np.abs(value)):.3g}")
            worst = max(worst, scaled)
    print(
        f"  {onnx_path.name}: max diff vs TFLite over {len(inputs)} inputs, relative to each output's range "
        f"(at least 1) = {worst:.2e} (tolerance {tolerance})"
    )
    if worst > tolerance:
        raise SystemExit(f"{onnx_path.name}: ONNX output differs from TFLite by {worst} > {tolerance}")
    spec = {
        "inputs": [{"name": i.name, "shape": i.shape, "dtype": i.type} for i in session.get_inputs()],
        "outputs": [{"name": o.name, "shape": o.shape, "dtype": o.type} for o in session.get_outputs()],
    }
    return worst, spec


def inside(work: Path, tflite: dict[str, Path]) -> None:
    import tensorflow as tf
    import tf2onnx

    print(f"tensorflow {tf.__version__}, tf2onnx {tf2onnx.__version__}", flush=True)
    results = {}
    for name, (_, tolerance) in TFLITE_MODELS.items():
        source = tflite[name]
        print(f"{name}: converting {source}", flush=True)
        to_convert = source
        if name == "pose_detection":
            to_convert = work / f"{name}.dense.tflite"
            count = densified_model(source, to_convert)
            print(f"  replaced {count} DENSIFY ops by their dense constants")
        onnx_path = MODELS / f"{name}.onnx"
        convert(to_convert, onnx_path)
        # Checked against the ORIGINAL (sparse) model, so the densify step is checked too.
        worst, spec = check(source, onnx_path, tolerance)
        results[name] = {"max_abs_diff": worst, "tflite_sha256": sha256(source), **spec}
    (work / "results.json").write_text(json.dumps(results, indent=2))


def update_manifest(work: Path) -> None:
    results = json.loads((work / "results.json").read_text())
    manifest_path = MODELS / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    for entry in manifest["models"]:
        path = MODELS / entry["file"]
        entry["sha256"] = sha256(path)
        entry["size_bytes"] = path.stat().st_size
        name = path.stem
        if name in results:
            entry["conversion"]["max_rel_diff_vs_tflite"] = float(f"{results[name]['max_abs_diff']:.3g}")
            entry["source"]["sha256"] = results[name]["tflite_sha256"]
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"updated {manifest_path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--venv", type=Path, default=Path("/tmp/convert-venv"), help="throwaway build venv")
    parser.add_argument("--work", type=Path, default=Path("/tmp/convert-work"), help="downloads and temp files")
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    if args.inside:
        inside(args.work, {name: args.work / f"{name}.tflite" for name in TFLITE_MODELS})
        return
    tflite = fetch_tflite(args.work)
    for name, path in tflite.items():
        print(f"{name}.tflite sha256 {sha256(path)}")
    python = ensure_venv(args.venv)
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "2"}
    if subprocess.run([str(python), __file__, "--inside", "--work", str(args.work)], env=env).returncode:
        raise SystemExit("conversion failed")
    update_manifest(args.work)


if __name__ == "__main__":
    main()
