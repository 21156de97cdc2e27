"""Benchmark the try-on engine on every person x garment pair of two folders.

    python bench/tryon.py --people ../shared/dev-images/person --garments ../shared/dev-images/garment \
        --limit-garments 6 --category tops --quality high --out bench/out

Prints the success rate (and the failure codes), per-stage and end-to-end median
and p95 times, peak memory (RSS) and the ONNX providers used; writes contact
sheets (person | garment | result, one row per pair) for review.

``--engine NAME`` picks the try-on engine (``classical``, ``fashn-vton-1.5``, ``auto``);
for the learned engine also the per-step sampling times, and which provider ran:

    FASHN_VTON_DIR=/srv/fashn-bundle python bench/tryon.py --engine fashn-vton-1.5 --people ... --garments ...
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from imaging import onnx_runtime as onnx  # noqa: E402
from imaging.errors import PipelineError  # noqa: E402
from imaging.image_io import load_rgb  # noqa: E402
from imaging.tryon.classical.garment import analyze_garment  # noqa: E402
from imaging.tryon.engines import TryonRequest, engine_names, select_engine  # noqa: E402

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".webp"}
TILE_H = 320
PAIRS_PER_SHEET = 8


def images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)


def tile(rgb: np.ndarray, label: str = "") -> Image.Image:
    im = Image.fromarray(rgb)
    im = im.resize((max(1, round(im.width * TILE_H / im.height)), TILE_H), Image.Resampling.LANCZOS)
    if label:
        ImageDraw.Draw(im).text((4, 4), label, fill=(255, 0, 0))
    return im


def save_sheet(rows: list[list[Image.Image]], path: Path) -> None:
    width = max(sum(t.width for t in row) for row in rows)
    sheet = Image.new("RGB", (width, TILE_H * len(rows)), "white")
    for r, row in enumerate(rows):
        x = 0
        for t in row:
            sheet.paste(t, (x, r * TILE_H))
            x += t.width
    sheet.save(path)


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=Path, required=True)
    parser.add_argument("--garments", type=Path, required=True)
    parser.add_argument("--limit-people", type=int, default=0)
    parser.add_argument("--limit-garments", type=int, default=0)
    parser.add_argument("--category", default="", help="only garments the analysis puts in this category (e.g. tops)")
    parser.add_argument("--quality", default="high", choices=["standard", "high"])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out")
    parser.add_argument("--engine", default="classical", help=f"auto or one of {', '.join(engine_names())}")
    parser.add_argument("--fashn-bundle", type=Path, help="the FASHN VTON bundle (default: $FASHN_VTON_DIR)")
    parser.add_argument("--seed", type=int, default=None, help="seed for engines that sample (same seed, same image)")
    args = parser.parse_args()
    if args.fashn_bundle:
        from imaging.tryon import fashn_vton

        fashn_vton.configure(bundle_dir=args.fashn_bundle)
    engine = select_engine(args.engine)

    people = images_in(args.people)[: args.limit_people or None]
    garments = images_in(args.garments)
    if args.category:
        # The garment analysis decides; keep the first N of the wanted category.
        chosen = []
        for g in garments:
            try:
                if analyze_garment(load_rgb(g)).category == args.category:
                    chosen.append(g)
            except PipelineError:
                continue
            if args.limit_garments and len(chosen) >= args.limit_garments:
                break
        garments = chosen
    else:
        garments = garments[: args.limit_garments or None]
    args.out.mkdir(parents=True, exist_ok=True)
    print(
        f"{len(people)} people x {len(garments)} garments = {len(people) * len(garments)} pairs, quality={args.quality}"
        f", engine={engine.name}"
    )

    garment_rgb = {g: load_rgb(g) for g in garments}
    timings: dict[str, list[float]] = {}
    step_times: list[float] = []
    providers_used: Counter[str] = Counter()
    failures: Counter[str] = Counter()
    done = 0
    rows: list[list[Image.Image]] = []
    sheet_no = 0
    for p in people:
        person = load_rgb(p)
        for g in garments:
            t0 = time.perf_counter()
            try:
                request = TryonRequest(
                    person=person,
                    garment=garment_rgb[g],
                    category=args.category or "auto",
                    quality=args.quality,
                    seed=args.seed,
                )
                result = engine.run(request)
            except PipelineError as exc:
                failures[exc.code] += 1
                print(f"  FAIL {p.name} + {g.name}: {exc.code}")
                rows.append(
                    [tile(person, p.name), tile(garment_rgb[g], g.name), tile(np.full_like(person, 40), exc.code)]
                )
            else:
                done += 1
                result.timings["end_to_end"] = time.perf_counter() - t0
                step_times += [float(s) for s in result.info.get("step_seconds", [])]  # type: ignore[attr-defined]
                if "provider" in result.info:
                    providers_used[str(result.info["provider"])] += 1
                for k, v in result.timings.items():
                    timings.setdefault(k, []).append(v)
                rows.append(
                    [
                        tile(person, p.name),
                        tile(garment_rgb[g], g.name),
                        tile(result.image, f"{result.category} {result.timings['end_to_end']:.2f}s"),
                    ]
                )
            if len(rows) == PAIRS_PER_SHEET:
                save_sheet(rows, args.out / f"tryon_sheet_{sheet_no:03d}.png")
                rows, sheet_no = [], sheet_no + 1
    if rows:
        save_sheet(rows, args.out / f"tryon_sheet_{sheet_no:03d}.png")
        sheet_no += 1

    total = len(people) * len(garments)
    print(
        f"\nsuccess: {done}/{total} = {100 * done / max(total, 1):.1f}%"
        + (f"  failures: {dict(failures)}" if failures else "")
    )
    print(f"{'stage':<12}{'median s':>10}{'p95 s':>10}")
    for stage, values in timings.items():
        print(f"{stage:<12}{pct(values, 50):>10.3f}{pct(values, 95):>10.3f}")
    if step_times:
        print(
            f"{'step':<12}{pct(step_times, 50):>10.3f}{pct(step_times, 95):>10.3f}"
            f"   ({len(step_times)} sampling steps, {len(step_times) / max(done, 1):.0f} per image)"
        )
    # ru_maxrss is KiB on Linux.
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    info = onnx.runtime_info()
    print(f"onnxruntime {info['onnxruntime']} ({info['device']}), sessions: {info['sessions']}")
    described = engine.describe()
    print(
        f"engine: {engine.name}, provider: {dict(providers_used) or described.get('provider') or info['sessions']}"
        + (f", precision: {described['precision']}" if "precision" in described else "")
    )
    print(f"contact sheets: {sheet_no} in {args.out}")
    return 0 if done == total else 1


if __name__ == "__main__":
    sys.exit(main())
