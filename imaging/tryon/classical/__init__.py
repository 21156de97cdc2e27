"""The classical try-on engine: pose and segmentation networks, a geometric fit and careful composition.

It runs anywhere on CPU with the small ONNX models in ``models/`` and is the
engine every install has. ``engine.run_tryon`` runs its stages:

* person: ``pose`` (BlazePose), ``person`` (regions), with ``skin`` (colour model);
* garment: ``garment`` (cut-out, clean-up, category, outline), ``silhouette``;
* warp: the category's ``fit`` on ``body`` measures, with ``geometry`` and ``warp`` (pieces);
* compose: ``compose``, asking the category what it replaces and what stays in front.

``garment_model`` holds what the engine knows about a garment and the ``GarmentCategory``
protocol; ``categories/`` has one module per category; ``debug`` draws the overlays.
"""

from __future__ import annotations

from pathlib import Path

from imaging import onnx_runtime
from imaging.progress import ProgressCallback
from imaging.stages import LABELS, Stage
from imaging.tryon.engines import EngineUnavailable, TryonRequest, TryonResult, register

NAME = "classical"
MODEL_FILES = ("pose_detection.onnx", "pose_landmark_full.onnx", "u2netp.onnx")


class ClassicalEngine:
    name: str = NAME
    stages: tuple[tuple[str, str], ...] = tuple(
        (stage, LABELS[stage]) for stage in (Stage.PERSON, Stage.GARMENT, Stage.WARP, Stage.COMPOSE)
    )

    def check(self) -> None:
        missing = [f for f in MODEL_FILES if not onnx_runtime.model_path(f).is_file()]
        if missing:
            raise EngineUnavailable(f"model files missing: {', '.join(missing)}")

    def describe(self) -> dict[str, object]:
        return {"engine": self.name, "providers": onnx_runtime.providers_in_use()}

    def run(
        self, request: TryonRequest, *, progress: ProgressCallback | None = None, debug_dir: Path | None = None
    ) -> TryonResult:
        from .engine import run_tryon  # the pipeline's modules load only when an order runs

        return run_tryon(
            request.person,
            request.garment,
            category=request.category,
            quality=request.quality,
            progress=progress,
            debug_dir=debug_dir,
        )


# Lowest priority for "auto": it always runs, so it is the fallback.
register(NAME, ClassicalEngine, auto_priority=0)
