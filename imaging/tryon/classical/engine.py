"""The virtual try-on engine: person photo + garment photo -> the person wearing the garment.

Stages (progress %): person analysis 10->35, garment analysis ->55, warp ->75,
compose ->95; the caller encodes (->100). Each stage is timed, and with
``debug_dir`` writes an overlay that explains what it saw.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PIL import Image

from imaging.errors import PipelineError
from imaging.image_io import QUALITY_LONG_SIDE, resize_long_side
from imaging.progress import ProgressCallback, no_progress
from imaging.tryon.engines import TryonResult

from .compose import compose, draw_compose_debug
from .garment import CATEGORIES, analyze_garment, draw_garment_debug
from .warp import body_from_person, draw_warp_debug, fit_garment

# The garment photo is analysed at 0.6x the output's long side (512..1024 px): the cutout
# dominates its cost, and a garment covers well under that share of the person photo, so
# the warp still scales it down.
GARMENT_SCALE = 0.6
GARMENT_LONG_SIDE = (512, 1024)


def run_tryon(
    person_rgb: np.ndarray,
    garment_rgb: np.ndarray,
    *,
    category: str = "auto",
    quality: str = "high",
    progress: ProgressCallback | None = None,
    debug_dir: Path | None = None,
) -> TryonResult:
    from .person import analyze_person, draw_person_debug  # engineer P's module; imported late to keep this light

    if quality not in QUALITY_LONG_SIDE:
        raise PipelineError("BAD_QUALITY", f"Unknown quality {quality!r}; use {', '.join(QUALITY_LONG_SIDE)}.")
    if category not in ("auto", *CATEGORIES):
        raise PipelineError("BAD_CATEGORY", f"Unknown category {category!r}; use auto, {', '.join(CATEGORIES)}.")
    progress = progress or no_progress
    timings: dict[str, float] = {}
    debug = Path(debug_dir) if debug_dir else None
    if debug:
        debug.mkdir(parents=True, exist_ok=True)

    def save(name: str, rgb: np.ndarray) -> None:
        if debug:
            Image.fromarray(rgb).save(debug / f"{name}.png")

    t0 = time.perf_counter()
    person_rgb = np.ascontiguousarray(resize_long_side(person_rgb, QUALITY_LONG_SIDE[quality]))
    progress("person", 10)
    t = time.perf_counter()
    person = analyze_person(person_rgb)
    timings["person"] = time.perf_counter() - t
    progress("person", 35)
    if debug:
        save("1_person", draw_person_debug(person))
        save("1_regions", _regions_overlay(person_rgb, person.regions))

    t = time.perf_counter()
    garment_side = int(np.clip(GARMENT_SCALE * max(person_rgb.shape[:2]), *GARMENT_LONG_SIDE))
    garment = analyze_garment(np.ascontiguousarray(resize_long_side(garment_rgb, garment_side)), category=category)
    timings["garment"] = time.perf_counter() - t
    progress("garment", 55)
    save("2_garment", draw_garment_debug(garment)) if debug else None

    t = time.perf_counter()
    body = body_from_person(person)
    warp = fit_garment(garment, body)
    timings["warp"] = time.perf_counter() - t
    progress("warp", 75)
    save("3_warp", draw_warp_debug(person_rgb, garment, warp)) if debug else None

    t = time.perf_counter()
    comp = compose(person_rgb, person.regions, body, warp, garment.category)
    timings["compose"] = time.perf_counter() - t
    progress("compose", 95)
    if debug:
        save("4_compose_mask", draw_compose_debug(person_rgb, comp))
        save("5_result", comp.image)
    timings["total"] = time.perf_counter() - t0
    return TryonResult(image=comp.image, timings=timings, category=garment.category, edited_mask=comp.edited_mask)


REGION_COLOURS = {
    "face_hair_neck": (255, 200, 0),
    "arm_skin": (255, 120, 120),
    "sleeves": (200, 0, 200),
    "hands": (255, 0, 0),
    "upper_garment": (0, 200, 255),
    "lower_body": (0, 200, 0),
    "arms": (255, 120, 120),
}


def _regions_overlay(rgb: np.ndarray, regions: dict[str, np.ndarray]) -> np.ndarray:
    out = rgb.astype(np.float32) * 0.4
    for name, colour in REGION_COLOURS.items():
        if name in regions and name != "arms":
            out[regions[name]] += 0.6 * np.array(colour, np.float32)
    return np.clip(out, 0, 255).astype(np.uint8)
