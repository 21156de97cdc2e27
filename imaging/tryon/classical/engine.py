"""The virtual try-on engine: person photo + garment photo -> the person wearing the garment.

Stages (progress %): person analysis 10->35, garment analysis ->55, warp ->75,
compose ->95; the caller encodes (->100). Each stage is timed, and with
``debug_dir`` writes an overlay that explains what it saw.
"""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np

from imaging.debug import save
from imaging.errors import PipelineCannotProcess, PipelineError
from imaging.image_io import QUALITY_LONG_SIDE, resize_long_side
from imaging.options import CATEGORY_CHOICES, DEFAULT_CATEGORY, DEFAULT_QUALITY
from imaging.progress import ProgressCallback, no_progress
from imaging.stages import Stage
from imaging.tryon.engines import TryonResult

from .categories import garment_category
from .compose import compose
from .debug import (
    draw_compose_debug,
    draw_garment_debug,
    draw_person_debug,
    draw_regions,
    draw_self_check,
    draw_warp_debug,
)
from .garment import analyze_garment
from .person import analyze_person, body_from_person
from .selfcheck import enforce, expected_zone, min_score_from_env, self_check
from .warp import folded_share, streaked_share

# The garment photo is analysed at 0.6x the output's long side (512..1024 px): the cutout
# dominates its cost, and a garment covers well under that share of the person photo, so
# the warp still scales it down.
GARMENT_SCALE = 0.6
GARMENT_LONG_SIDE = (512, 1024)


def run_tryon(
    person_rgb: np.ndarray,
    garment_rgb: np.ndarray,
    *,
    category: str = DEFAULT_CATEGORY,
    quality: str = DEFAULT_QUALITY,
    progress: ProgressCallback | None = None,
    debug_dir: Path | None = None,
    min_score: float | None = None,
) -> TryonResult:
    """``min_score``: the self-check's threshold (default: the environment's, see ``selfcheck``);
    a result scoring under it raises ``PipelineError`` instead of being delivered."""
    if quality not in QUALITY_LONG_SIDE:
        raise PipelineError("BAD_QUALITY", f"Unknown quality {quality!r}; use {', '.join(QUALITY_LONG_SIDE)}.")
    if category not in CATEGORY_CHOICES:
        raise PipelineError("BAD_CATEGORY", f"Unknown category {category!r}; use {', '.join(CATEGORY_CHOICES)}.")
    progress = progress or no_progress
    stage: list[str] = [Stage.PERSON]
    try:
        return _run(person_rgb, garment_rgb, category, quality, progress, debug_dir, stage, min_score)
    except NUMERIC_FAILURES as exc:
        # A numerical breakdown inside the pipeline (e.g. numpy's "SVD did not converge") is a
        # property of these inputs, not a passing fault: say so, with its own code.
        raise PipelineCannotProcess(stage[0], exc) from exc


# What the pipeline's maths raises when a fit breaks down on an input; any other exception is a bug
# and stays one (the task reports it as PROCESSING_FAILED).
NUMERIC_FAILURES: tuple[type[BaseException], ...] = (np.linalg.LinAlgError, cv2.error, FloatingPointError)


def _run(
    person_rgb, garment_rgb, category, quality, progress, debug_dir, stage: list[str], min_score: float | None
) -> TryonResult:
    """run_tryon's stages; ``stage[0]`` names the one running (for the error's detail)."""
    timings: dict[str, float] = {}
    debug = Path(debug_dir) if debug_dir else None
    if debug:
        debug.mkdir(parents=True, exist_ok=True)

    t0 = time.perf_counter()
    person_rgb = np.ascontiguousarray(resize_long_side(person_rgb, QUALITY_LONG_SIDE[quality]))
    progress(Stage.PERSON, 10)
    t = time.perf_counter()
    person = analyze_person(person_rgb)
    timings[Stage.PERSON] = time.perf_counter() - t
    progress(Stage.PERSON, 35)
    if debug:
        save(debug, "1_person", draw_person_debug(person))
        save(debug, "1_regions", draw_regions(person_rgb, person.regions))

    stage[0] = Stage.GARMENT
    t = time.perf_counter()
    garment_side = int(np.clip(GARMENT_SCALE * max(person_rgb.shape[:2]), *GARMENT_LONG_SIDE))
    garment = analyze_garment(np.ascontiguousarray(resize_long_side(garment_rgb, garment_side)), category=category)
    timings[Stage.GARMENT] = time.perf_counter() - t
    progress(Stage.GARMENT, 55)
    if debug:
        save(debug, "2_garment", draw_garment_debug(garment))

    stage[0] = Stage.WARP
    t = time.perf_counter()
    kind = garment_category(garment.category)
    body = body_from_person(person)
    warp = kind.fit(garment, body)
    timings[Stage.WARP] = time.perf_counter() - t
    progress(Stage.WARP, 75)
    if debug:
        save(debug, "3_warp", draw_warp_debug(person_rgb, garment, warp))

    stage[0] = Stage.COMPOSE
    t = time.perf_counter()
    comp = compose(person_rgb, person.regions, body, warp, kind)
    timings[Stage.COMPOSE] = time.perf_counter() - t
    progress(Stage.COMPOSE, 95)
    streaked = max((streaked_share(warp, p.name) for p in warp.pieces if p.name != kind.body_piece), default=0.0)
    check = self_check(comp, body, garment.category, person.mask, folded_share(warp, kind.body_piece), streaked)
    if debug:
        save(debug, "4_compose_mask", draw_compose_debug(person_rgb, comp))
        save(debug, "5_result", comp.image)
        save(debug, "6_self_check", draw_self_check(comp, expected_zone(body, garment.category), check))
    enforce(check, min_score_from_env() if min_score is None else min_score)
    timings["total"] = time.perf_counter() - t0
    return TryonResult(
        image=comp.image,
        timings=timings,
        category=garment.category.value,
        edited_mask=comp.edited_mask,
        info=dict(check.as_info()),
    )
