"""The FASHN VTON v1.5 try-on engine: DWPose, the exported MMDiT step graph, guided Euler sampling, paste-back.

Numpy and ONNX Runtime only (no torch). The pipeline follows upstream's
``TryOnPipeline.__call__`` (fashn-AI/fashn-vton-1.5 ``src/fashn_vton/pipeline.py``)
in its mask-free mode ("segmentation_free", upstream's default): the person
photo goes in unmasked, the garment photo unmasked when flat-lay; worn-garment
photos are masked with our own cut-out instead of upstream's (non-commercial)
human parser. Where we differ on purpose: flat-lay vs worn is detected (upstream
asks), the noise comes from numpy's generator (same seed, same image; not
torch's stream), the sample's state is float32, and the result is pasted back
into the photo at its own resolution inside the person's region.
"""

from __future__ import annotations

import importlib
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from imaging.errors import PipelineError
from imaging.image_io import QUALITY_LONG_SIDE, resize_long_side
from imaging.progress import ProgressCallback, no_progress
from imaging.stages import stage_label
from imaging.tryon.engines import EngineUnavailable, TryonRequest, TryonResult

from . import preprocess as pp
from .bundle import Bundle, BundleError, load_manifest, verify
from .dwpose import DWPose, Pose
from .pose_image import draw_pose
from .runtime import OrtStepRunner, Sessions, build_sessions
from .sampler import euler_sample

log = logging.getLogger(__name__)

NAME = "fashn-vton-1.5"
CATEGORIES = ("tops", "bottoms", "one-pieces")
# upstream pipeline.py CATEGORY_TO_LABEL; 0 is the unconditional ("null") class.
CATEGORY_ID = {"tops": 1, "bottoms": 2, "one-pieces": 3}
MIN_BODY_POINTS = 4  # fewer visible body joints than this and there is no usable person
STAGES = tuple((stage, stage_label(stage)) for stage in ("pose", "garment", "sample", "paste"))


@dataclass
class Prepared:
    """Everything the generator needs, in the model's frame, plus what paste-back needs."""

    ca_image: np.ndarray  # (1, 3, H, W) float32 [-1, 1]
    garment: np.ndarray  # (1, 3, H, W)
    person_pose: np.ndarray  # (1, 1, H, W)
    garment_pose: np.ndarray  # (1, 1, H, W)
    padding: pp.Padding  # of the person in the model's frame
    person_small: np.ndarray  # the pre-resized person photo the pose was found on
    pose: Pose
    garment_worn: bool
    images: dict[str, np.ndarray] = field(default_factory=dict)  # uint8 views for debugging


def person_pose_or_error(pose: Pose) -> None:
    if pose.box is None or int(pose.visible_body.sum()) < MIN_BODY_POINTS:
        raise PipelineError(
            "NO_PERSON",
            "No person was found in the person photo; use a photo of one person, "
            "standing, with the upper body in view.",
        )


def prepare(
    person_rgb: np.ndarray,
    garment_rgb: np.ndarray,
    category: str,
    dwpose: DWPose,
    height: int,
    width: int,
    *,
    cut_out: Callable[[np.ndarray], np.ndarray] | None = None,
    timings: dict[str, float] | None = None,
    progress: ProgressCallback = no_progress,
) -> Prepared:
    """Pose, pose images, the garment input and the model-frame tensors (upstream's pre-processing).

    ``cut_out(rgb) -> alpha`` isolates a worn garment; by default the catalog's cut-out.
    """
    timings = timings if timings is not None else {}
    t0 = time.perf_counter()
    side = max(height, width)  # upstream pre-resizes to the model's long side before pose detection
    person = np.ascontiguousarray(pp.fit_no_upscale(person_rgb, side))
    garment = np.ascontiguousarray(pp.fit_no_upscale(garment_rgb, side))
    pose = dwpose(np.ascontiguousarray(person[..., ::-1]))  # DWPose takes BGR
    person_pose_or_error(pose)
    person_pose_img = draw_pose(pose, person.shape[0], person.shape[1])
    timings["pose"] = time.perf_counter() - t0
    progress("pose", 10)

    t0 = time.perf_counter()
    garment_pose = dwpose(np.ascontiguousarray(garment[..., ::-1]))
    worn = pp.is_worn(garment_pose)
    if worn:
        alpha = (cut_out or catalog_cut_out)(garment)
        garment_in = pp.isolate_worn_garment(garment, garment_pose, category, alpha)
    else:
        garment_pose = Pose.empty()  # upstream's dummy keypoints for flat-lay: an empty pose image
        garment_in = garment
    garment_pose_img = draw_pose(garment_pose, garment.shape[0], garment.shape[1])

    ca, padding = pp.resize_pad(person, height, width)
    garment_m, _ = pp.resize_pad(garment_in, height, width)
    person_pose_m, _ = pp.resize_pad(person_pose_img, height, width, nearest=True)
    garment_pose_m, _ = pp.resize_pad(garment_pose_img, height, width, nearest=True)
    timings["garment"] = time.perf_counter() - t0
    progress("garment", 18)
    return Prepared(
        ca_image=pp.to_model(ca),
        garment=pp.to_model(garment_m),
        person_pose=pp.to_model(person_pose_m),
        garment_pose=pp.to_model(garment_pose_m),
        padding=padding,
        person_small=person,
        pose=pose,
        garment_worn=worn,
        images={
            "person_pose": person_pose_img,
            "garment_pose": garment_pose_img,
            "model_ca": ca,
            "model_garment": garment_m,
        },
    )


def catalog_cut_out(rgb: np.ndarray) -> np.ndarray:
    """The catalog's background removal as an alpha matte (HxW float in [0, 1])."""
    # imaging.cutout owns background removal; imported by name when needed (a worn-garment photo).
    cutout = importlib.import_module("imaging.cutout")
    try:
        return np.asarray(cutout.cut_out(rgb).alpha)
    except PipelineError as exc:
        if exc.code == "NO_PRODUCT":
            raise PipelineError(
                "NO_GARMENT", "No garment could be separated in the garment photo; use a clearer product photo."
            ) from exc
        raise


def initial_noise(seed: int, height: int, width: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((1, 3, height, width), dtype=np.float32)


def generate(
    sessions: Sessions,
    prepared: Prepared,
    category: str,
    noise: np.ndarray,
    steps: int,
    sampling: Mapping[str, Any],
    on_step: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Sample and return the generated person photo (uint8, padding removed: the pre-resized photo's framing)."""
    runner = OrtStepRunner(
        sessions.generator,
        {
            "ca_image": prepared.ca_image,
            "garment": prepared.garment,
            "person_pose": prepared.person_pose,
            "garment_pose": prepared.garment_pose,
            "category": np.array([CATEGORY_ID[category]], dtype=np.int64),
        },
        sessions.device,
    )
    x = euler_sample(
        runner,
        noise,
        steps,
        guidance=float(sampling["guidance_scale"]),
        skip_guidance_last=int(sampling["skip_guidance_last_steps"]),
        mu=float(sampling["time_shift_mu"]),
        on_step=on_step,
    )
    return pp.unpad(pp.from_model(x), prepared.padding)


def resolve_category(category: str, garment_rgb: np.ndarray) -> str:
    if category in CATEGORIES:
        return category
    if category != "auto":
        raise PipelineError("BAD_CATEGORY", f"Unknown category {category!r}; use auto, {', '.join(CATEGORIES)}.")
    # The model needs the category; "auto" asks the garment analysis the classical engine uses
    # (imported by name: that engine's internals are not this package's to type-check).
    garment_analysis = importlib.import_module("imaging.tryon.classical.garment")
    return str(garment_analysis.analyze_garment(garment_rgb).category)


class FashnVtonEngine:
    name = NAME
    stages = STAGES

    def __init__(self, bundle_dir: Path | None, precision: str = "auto") -> None:
        self.bundle_dir = bundle_dir
        self.precision = precision
        self._verdict: str | None = None  # "" once the bundle checked out, else why not
        self._bundle: Bundle | None = None
        self._sessions: Sessions | None = None
        self._pid = os.getpid()

    # ------------------------------------------------------------------ health

    def check(self) -> None:
        """Raise EngineUnavailable unless the bundle is configured, complete and uncorrupted (hashed once)."""
        if self._verdict is None:
            self._verdict = self._check_bundle()
            if self._verdict:
                log.warning("FASHN VTON engine unavailable: %s", self._verdict)
        if self._verdict:
            raise EngineUnavailable(self._verdict)

    def _check_bundle(self) -> str:
        if self.bundle_dir is None:
            return "no model bundle configured (set FASHN_VTON_DIR to a directory made by tools/export_fashn_vton.py)"
        try:
            bundle = load_manifest(self.bundle_dir)
            verify(bundle)
        except BundleError as exc:
            return str(exc)
        self._bundle = bundle
        return ""

    def describe(self) -> dict[str, object]:
        from imaging import onnx_runtime

        info: dict[str, object] = {
            "engine": self.name,
            "bundle_dir": str(self.bundle_dir) if self.bundle_dir else None,
            "bundle_ok": None if self._verdict is None else not self._verdict,
            "available_providers": onnx_runtime.available_providers(),
        }
        if self._verdict:
            info["error"] = self._verdict
        if self._bundle is not None:
            info["bundle"] = self._bundle.summary()
            info["quality_steps"] = self._bundle.sampling["quality_steps"]
        if self._sessions is not None:
            info["provider"] = self._sessions.provider
            info["precision"] = self._sessions.precision
        return info

    def sessions(self) -> Sessions:
        self.check()
        assert self._bundle is not None
        if os.getpid() != self._pid:  # forked since they were built: sessions must not cross a fork
            self._sessions, self._pid = None, os.getpid()
        if self._sessions is None:
            self._sessions = build_sessions(self._bundle, self.precision)
        return self._sessions

    # ------------------------------------------------------------------ run

    def run(
        self, request: TryonRequest, *, progress: ProgressCallback | None = None, debug_dir: Path | None = None
    ) -> TryonResult:
        progress = progress or no_progress
        if request.quality not in QUALITY_LONG_SIDE:
            raise PipelineError(
                "BAD_QUALITY", f"Unknown quality {request.quality!r}; use {', '.join(QUALITY_LONG_SIDE)}."
            )
        t_start = time.perf_counter()
        sessions = self.sessions()
        bundle = self._bundle
        assert bundle is not None
        timings: dict[str, float] = {}
        category = resolve_category(request.category, request.garment)
        steps = int(bundle.sampling["quality_steps"][request.quality])
        # No seed asked for: a fresh one, reported in info so the image can be made again.
        seed = request.seed if request.seed is not None else int(np.random.SeedSequence().generate_state(1)[0] >> 1)
        base = np.ascontiguousarray(resize_long_side(request.person, QUALITY_LONG_SIDE[request.quality]))

        dwpose = DWPose(sessions.detector, sessions.keypoints)
        prepared = prepare(
            base, request.garment, category, dwpose, bundle.height, bundle.width, timings=timings, progress=progress
        )

        step_seconds: list[float] = []
        t_step = time.perf_counter()

        def on_step(done: int, total: int) -> None:
            nonlocal t_step
            now = time.perf_counter()
            step_seconds.append(now - t_step)
            t_step = now
            progress("sample", 20 + int(75 * done / total))

        t0 = time.perf_counter()
        generated = generate(
            sessions,
            prepared,
            category,
            initial_noise(seed, bundle.height, bundle.width),
            steps,
            bundle.sampling,
            on_step,
        )
        timings["sample"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        small_h, small_w = prepared.person_small.shape[:2]
        scale_y, scale_x = base.shape[0] / small_h, base.shape[1] / small_w
        x0, y0, x1, y1 = pp.person_region(prepared.pose, small_h, small_w)
        region = (
            int(x0 * scale_x),
            int(y0 * scale_y),
            min(base.shape[1], int(np.ceil(x1 * scale_x))),
            min(base.shape[0], int(np.ceil(y1 * scale_y))),
        )
        feather = max(2, round(0.02 * max(base.shape[:2])))
        image, edited = pp.paste_back(base, generated, region, feather)
        timings["paste"] = time.perf_counter() - t0
        progress("paste", 98)
        timings["total"] = time.perf_counter() - t_start

        if debug_dir:
            debug = Path(debug_dir)
            debug.mkdir(parents=True, exist_ok=True)
            for name, img in {**prepared.images, "generated": generated, "result": image}.items():
                Image.fromarray(img).save(debug / f"{name}.png")
        return TryonResult(
            image=image,
            timings=timings,
            category=category,
            edited_mask=edited,
            info={
                "engine": self.name,
                "provider": sessions.provider,
                "precision": sessions.precision,
                "steps": steps,
                "seed": seed,
                "garment_photo": "worn" if prepared.garment_worn else "flat-lay",
                "step_seconds": [round(s, 4) for s in step_seconds],
                "region": list(region),
            },
        )
