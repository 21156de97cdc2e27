"""Benchmark the catalog pipeline over a folder of product photos (plain Python, no Django).

    .venv/bin/python bench/catalog.py ../shared/dev-images/garment --quantity 6 12 --out bench/out/catalog

Reports success rate, median / p95 seconds per order for each quantity, peak
memory (RSS), the ONNX provider used, and writes a contact sheet of every
output image per photo (plus one overview sheet) under --out.

For each set of the largest quantity it prints the objective checks of
``imaging.catalog.checks`` (after the timing, so they do not count in it):
the smallest distance between two images of the set (>= 12), the halo on the
dark scenes (the raw band step, < 6) with the rim left after a sharp
edge's own anti-aliasing is taken out, the reflection on the reflective scenes
(correlation >= 0.3) and each image's sharpness against its source at its own
scale (>= 0.9); then how many sets pass each check. ``--no-checks`` skips them.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from imaging.catalog.checks import check_set  # noqa: E402
from imaging.catalog.engine import run_catalog  # noqa: E402
from imaging.catalog.scenes import SETS  # noqa: E402
from imaging.errors import PipelineError  # noqa: E402
from imaging.image_io import QUALITY_LONG_SIDE, load_rgb  # noqa: E402
from imaging.onnx_runtime import runtime_info  # noqa: E402

EXTS = {".jpg", ".jpeg", ".png", ".webp"}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def contact_sheet(images: list[np.ndarray], names: list[str], title: str, tile: int = 256) -> Image.Image:
    cols = 6
    rows = (len(images) + cols - 1) // cols
    sheet = Image.new("RGB", (cols * tile, rows * (tile + 14) + 18), (96, 96, 96))
    draw = ImageDraw.Draw(sheet)
    draw.text((4, 3), title, fill=(255, 255, 255))
    for i, (img, name) in enumerate(zip(images, names, strict=True)):
        thumb = Image.fromarray(img)
        thumb.thumbnail((tile, tile), Image.Resampling.LANCZOS)
        x, y = (i % cols) * tile, 18 + (i // cols) * (tile + 14)
        sheet.paste(thumb, (x + (tile - thumb.width) // 2, y + (tile - thumb.height) // 2))
        draw.text((x + 3, y + tile), name, fill=(255, 255, 255))
    return sheet


def format_checks(c: dict) -> str:
    mark = {True: "ok", False: "FAIL"}
    p = c["pass"]
    return (
        f"distance {c['min_distance']:.1f} ({' / '.join(c['closest_pair'])}) {mark[p['distinct']]}; "
        f"halo {c['halo_dark']} rim {c['rim_dark']} {mark[p['halo']]}; "
        f"lightest {c['halo_lightest']}; reflection {c['reflection']} {mark[p['reflection']]}; "
        f"sharpness min {min(c['sharpness'].values()):.3f} {mark[p['sharpness']]}"
    )


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dir", type=Path, help="folder of product photos")
    parser.add_argument("--quantity", type=int, nargs="+", default=[6, 12], choices=[6, 12])
    parser.add_argument("--quality", default="high", choices=["standard", "high"])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out" / "catalog")
    parser.add_argument("--limit", type=int, default=0, help="only the first N photos (0: all)")
    parser.add_argument("--resize", default="", help="resize inputs to WxH first, e.g. 1000x1334 (the speed target)")
    parser.add_argument("--no-checks", action="store_true", help="skip the objective checks of each set")
    args = parser.parse_args()

    photos = sorted(p for p in args.dir.iterdir() if p.suffix.lower() in EXTS)
    if args.limit:
        photos = photos[: args.limit]
    if not photos:
        print(f"no photos in {args.dir}")
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    times: dict[int, list[float]] = {q: [] for q in args.quantity}
    failures: list[str] = []
    methods: dict[str, int] = {}
    overview: list[Image.Image] = []
    checks: dict[str, dict] = {}
    for photo in photos:
        rgb = load_rgb(photo)
        if args.resize:
            w, h = (int(v) for v in args.resize.split("x"))
            rgb = np.asarray(Image.fromarray(rgb).resize((w, h), Image.Resampling.BICUBIC))
        for quantity in args.quantity:
            result = None  # the previous order's images are not kept alive while this one renders
            started = time.perf_counter()
            try:
                result = run_catalog(rgb, quantity, quality=args.quality)
            except PipelineError as exc:
                failures.append(f"{photo.name} x{quantity}: {exc.code} {exc.message}")
                print(f"{photo.name:24s} x{quantity:<2d} FAILED {exc.code}")
                continue
            elapsed = time.perf_counter() - started
            times[quantity].append(elapsed)
            if quantity == max(args.quantity):
                methods[result.cutout_method] = methods.get(result.cutout_method, 0) + 1
                title = f"{photo.name}  cutout={result.cutout_method}  {elapsed:.2f}s  {result.description[:150]}"
                sheet = contact_sheet(result.images, result.names, title)
                sheet.save(args.out / f"{photo.stem}.jpg", quality=85)
                overview.append(sheet)
            print(f"{photo.name:24s} x{quantity:<2d} {elapsed:6.2f} s  cutout={result.cutout_method}  {result.timings}")
            if quantity == max(args.quantity) and not args.no_checks:
                assert result.product is not None
                found = check_set(
                    result.images, result.placements, result.product, SETS[quantity], QUALITY_LONG_SIDE[args.quality]
                )
                checks[photo.name] = found
                print(f"    checks: {format_checks(found)}")

    if overview:
        # One small overview: each photo's sheet scaled down, stacked.
        width = 1200
        scaled = [s.resize((width, round(s.height * width / s.width))) for s in overview]
        for start in range(0, len(scaled), 10):
            part = scaled[start : start + 10]
            page = Image.new("RGB", (width, sum(s.height for s in part)))
            y = 0
            for s in part:
                page.paste(s, (0, y))
                y += s.height
            page.save(args.out / f"overview_{start // 10 + 1:02d}.jpg", quality=80)

    attempts = len(photos) * len(args.quantity)
    if checks:
        print(f"\nchecks of the x{max(args.quantity)} sets:")
        print(f"  {'photo':16s} {'dist':>6s} {'halo':>6s} {'rim':>6s} {'refl':>6s} {'sharp':>6s}  closest pair")
        for name, c in checks.items():
            print(
                f"  {name:16s} {c['min_distance']:6.1f} {max(c['halo_dark'].values()):6.2f} "
                f"{max(c['rim_dark'].values()):6.2f} "
                f"{min(c['reflection'].values(), default=float('nan')):6.2f} "
                f"{min(c['sharpness'].values()):6.3f}  {' / '.join(c['closest_pair'])}"
            )
        totals = {k: sum(1 for c in checks.values() if c["pass"][k]) for k in next(iter(checks.values()))["pass"]}
        print("  sets passing: " + ", ".join(f"{k} {v}/{len(checks)}" for k, v in totals.items()))
    summary = {
        "photos": len(photos),
        "quality": args.quality,
        "resize": args.resize or None,
        "success_rate": round(1 - len(failures) / attempts, 4),
        "failures": failures,
        "cutout_methods": methods,
        "seconds": {
            str(q): {
                "median": round(statistics.median(t), 3) if t else None,
                "p95": round(percentile(t, 95), 3) if t else None,
                "n": len(t),
            }
            for q, t in times.items()
        },
        "checks": checks,
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "onnx": runtime_info(),
        "contact_sheets": str(args.out),
    }
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps({k: v for k, v in summary.items() if k != "checks"}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
