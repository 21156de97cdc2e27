"""The model registry: what ``models/manifest.json`` says about each ONNX model, and running one by it.

The manifest is the one place that knows a model's file, its input (name,
layout, size, how pixels are normalised) and its outputs (name, shape and the
role the code knows them by). Pipelines ask for a model by file name and feed
it an RGB image already resized to the input's size; nothing else hard-codes
those facts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from imaging.onnx_runtime import get_session

# The manifest travels with the code that reads it (model files may live elsewhere: FTMV_MODELS_DIR).
MANIFEST_PATH = Path(__file__).resolve().parent.parent / "models" / "manifest.json"

Layout = Literal["NHWC", "NCHW"]


@dataclass(frozen=True)
class Normalisation:
    """Pixels 0..255 to network values: divided by ``divide_by`` (None: the image's own maximum), then
    ``(x - mean) / std`` per channel."""

    divide_by: float | None
    mean: tuple[float, float, float]
    std: tuple[float, float, float]

    def apply(self, rgb: npt.NDArray[np.generic]) -> npt.NDArray[np.float32]:
        x: npt.NDArray[np.float32] = rgb.astype(np.float32)
        x = x / np.float32(max(float(x.max()), 1e-6) if self.divide_by is None else self.divide_by)
        mean, std = np.array(self.mean, np.float32), np.array(self.std, np.float32)
        return np.divide(np.subtract(x, mean), std, dtype=np.float32)


@dataclass(frozen=True)
class ModelInput:
    name: str
    shape: tuple[int, ...]
    layout: Layout
    normalisation: Normalisation

    @property
    def size(self) -> tuple[int, int]:
        """(height, width) of the image the input takes."""
        if self.layout == "NHWC":
            return self.shape[1], self.shape[2]
        return self.shape[2], self.shape[3]

    def tensor(self, rgb: npt.NDArray[np.generic]) -> npt.NDArray[np.float32]:
        """The network's input for an HxWx3 RGB image already at :attr:`size`: normalised, batched, laid out."""
        if rgb.shape[:2] != self.size:
            raise ValueError(f"{self.name} takes {self.size} images, not {rgb.shape[:2]}")
        x = self.normalisation.apply(rgb)
        return (x if self.layout == "NHWC" else x.transpose(2, 0, 1))[None]


@dataclass(frozen=True)
class ModelOutput:
    name: str
    role: str  # what the code calls it ("boxes", "segmentation", ...)
    shape: tuple[int, ...]


@dataclass(frozen=True)
class ModelSpec:
    file: str
    input: ModelInput
    outputs: tuple[ModelOutput, ...]

    def output(self, role: str) -> ModelOutput:
        return next(o for o in self.outputs if o.role == role)

    def run(self, rgb: npt.NDArray[np.generic]) -> dict[str, npt.NDArray[np.float32]]:
        """Run the model on an RGB image at the input's size: every listed output, by role."""
        session = get_session(self.file)
        values = session.run([o.name for o in self.outputs], {self.input.name: self.input.tensor(rgb)})
        return {o.role: np.asarray(v) for o, v in zip(self.outputs, values, strict=True)}


@cache
def manifest() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(MANIFEST_PATH.read_text())
    return data


def _spec(entry: dict[str, Any]) -> ModelSpec:
    (inp,) = entry["inputs"]  # every model here takes one image
    norm = inp["normalisation"]
    divide_by = None if norm["divide_by"] == "max" else float(norm["divide_by"])
    return ModelSpec(
        file=entry["file"],
        input=ModelInput(
            name=inp["name"],
            shape=tuple(inp["shape"]),
            layout=inp["layout"],
            normalisation=Normalisation(divide_by, tuple(norm["mean"]), tuple(norm["std"])),
        ),
        outputs=tuple(ModelOutput(o["name"], o["role"], tuple(o["shape"])) for o in entry["outputs"]),
    )


@cache
def model(file: str) -> ModelSpec:
    """The manifest's description of ``models/<file>``."""
    for entry in manifest()["models"]:
        if entry["file"] == file:
            return _spec(entry)
    raise KeyError(f"{file} is not in {MANIFEST_PATH}")
