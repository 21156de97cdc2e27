"""The catalog engine: one product photo in, 6 or 12 catalog images out.

    result = run_catalog(rgb, 12, quality="high", progress=cb)

Cut out once, measure once, then render each scene of the curated set at the
output size, reporting progress after each image. Plain Python (no Django).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from imaging.cutout import Cutout, cut_out
from imaging.image_io import QUALITY_LONG_SIDE
from imaging.options import DEFAULT_QUALITY
from imaging.progress import ProgressCallback, no_progress
from imaging.stages import Stage

from .describe import describe, measure, product_kind
from .scenes import SETS, Placement, Product, prepare_product, render

# Progress: the cutout and measurements take the first part, each image an equal share of the rest.
CUTOUT_PERCENT = 15
DONE_PERCENT = 99


@dataclass
class CatalogResult:
    images: list[np.ndarray]  # RGB uint8, ``quantity`` of them
    names: list[str]  # scene names, e.g. "white_main", "studio_light", ...
    description: str  # product_description, built from the measurements
    cutout_method: str  # "plain" or "u2net"
    timings: dict[str, float]  # seconds per stage
    cutout: Cutout | None = field(default=None, repr=False)
    # Where the product went in each image and the product as drawn from: what the benchmark checks.
    placements: list[Placement] = field(default_factory=list, repr=False)
    product: Product | None = field(default=None, repr=False)


def run_catalog(
    rgb: np.ndarray,
    quantity: int,
    *,
    quality: str = DEFAULT_QUALITY,
    progress: ProgressCallback | None = None,
    debug_dir: Path | None = None,
) -> CatalogResult:
    """Render the curated set of ``quantity`` (6 or 12) catalog images of the product in ``rgb``.

    Raises ``PipelineError("NO_PRODUCT", ...)`` when no product can be separated.
    """
    if quantity not in SETS:
        raise ValueError(f"quantity must be one of {sorted(SETS)}, not {quantity}")
    if quality not in QUALITY_LONG_SIDE:
        raise ValueError(f"quality must be one of {sorted(QUALITY_LONG_SIDE)}, not {quality!r}")
    progress = progress or no_progress
    long_side = QUALITY_LONG_SIDE[quality]
    timings: dict[str, float] = {}

    t = time.perf_counter()
    cut = cut_out(rgb)
    timings[Stage.CUTOUT] = time.perf_counter() - t
    progress(Stage.CUTOUT, CUTOUT_PERCENT // 2)

    t = time.perf_counter()
    x0, y0, x1, y1 = cut.bbox
    measurements = measure(cut.rgb[y0:y1, x0:x1], cut.alpha[y0:y1, x0:x1])
    product = prepare_product(cut.rgb, cut.alpha, cut.bbox, measurements.palette, flat=measurements.garment)
    scenes = SETS[quantity]
    description = describe(measurements)
    timings[Stage.MEASURE] = time.perf_counter() - t
    progress(Stage.MEASURE, CUTOUT_PERCENT)

    images = []
    placements = []
    t = time.perf_counter()
    for i, scene in enumerate(scenes):
        image, placement = render(scene, product, long_side)
        images.append(image)
        placements.append(placement)
        progress(Stage.RENDER, CUTOUT_PERCENT + (DONE_PERCENT - CUTOUT_PERCENT) * (i + 1) // len(scenes))
    timings[Stage.RENDER] = time.perf_counter() - t
    timings["total"] = sum(timings.values())

    result = CatalogResult(
        images=images,
        names=[s.name for s in scenes],
        description=description,
        cutout_method=cut.method,
        timings={k: round(v, 4) for k, v in timings.items()},
        cutout=cut,
        placements=placements,
        product=product,
    )
    if debug_dir is not None:
        write_debug(Path(debug_dir), rgb, result, measurements)
    return result


def write_debug(debug_dir: Path, rgb: np.ndarray, result: CatalogResult, measurements) -> None:
    """Cutout (RGBA), matte, an overlay of the matte on the photo, and what was measured."""
    debug_dir.mkdir(parents=True, exist_ok=True)
    cut = result.cutout
    assert cut is not None
    a8 = (cut.alpha * 255 + 0.5).astype(np.uint8)
    Image.fromarray(np.dstack([cut.rgb, a8])).save(debug_dir / "cutout.png")
    Image.fromarray(a8).save(debug_dir / "alpha.png")
    overlay = rgb.astype(np.float32)
    tint = np.array((255, 0, 160), np.float32)
    overlay = overlay * (1 - 0.5 * (1 - cut.alpha[..., None])) + tint * 0.5 * (1 - cut.alpha[..., None])
    x0, y0, x1, y1 = cut.bbox
    overlay[y0:y1, [x0, x1 - 1]] = (0, 255, 0)
    overlay[[y0, y1 - 1], x0:x1] = (0, 255, 0)
    Image.fromarray(np.clip(overlay, 0, 255).astype(np.uint8)).save(debug_dir / "overlay.jpg", quality=90)
    info = {
        "cutout_method": cut.method,
        "cutout_info": cut.info,
        "bbox": list(cut.bbox),
        "description": result.description,
        "names": result.names,
        "timings": result.timings,
        "measurements": {
            "aspect": round(measurements.aspect, 3),
            "fill": round(measurements.fill, 3),
            "solidity": round(measurements.solidity, 3),
            "symmetry": round(measurements.symmetry, 3),
            "holes": measurements.holes,
            "two_legs": measurements.two_legs,
            "sleeves": measurements.sleeves,
            "long_sleeves": measurements.long_sleeves,
            "neckline": measurements.neckline,
            "straps": measurements.straps,
            "garment": measurements.garment,
            "stripes": measurements.stripes,
            "colour_entropy_bits": round(measurements.entropy, 2),
            "widening": round(measurements.widening, 3),
            "detail": round(measurements.detail, 2),
            "category": measurements.category,
            "kind": product_kind(measurements),
            "palette": [{"name": c.name, "rgb": list(c.rgb), "share": round(c.share, 3)} for c in measurements.palette],
        },
    }
    (debug_dir / "catalog.json").write_text(json.dumps(info, indent=2, default=float))
