"""Benchmark the try-on engine on every person x garment pair of two folders.

    python bench/tryon.py --people ../shared/dev-images/person --garments ../shared/dev-images/garment \
        --limit-garments 6 --category tops --quality high --out bench/out

Prints the success rate (and the failure codes), per-stage and end-to-end median
and p95 times, peak memory (RSS) and the ONNX providers used; writes contact
sheets (person | garment | result, one row per pair) for review.

On a half of the fixed split of the dev images (``bench/split.json``: tune on
``tuning`` only, judge on ``check``), each person with ``--pairs-per-person``
garments of that half in turn, so every garment is tried:

    python bench/tryon.py --split bench/split.json --half check --images ../shared/dev-images

and the objective measures of every result against its input: head and leg
preservation (SSIM of the head box, and of the legs from mid-thigh down for a top,
after the quality's resize), garment transfer (CIE76 colour distance of the torso's
median, or the thighs' for bottoms, to the garment's median: transferred under 20),
the synthesised-skin share and the self-check's score, and the self-check's
rejections (failures with its error code).

``--engine NAME`` picks the try-on engine (``classical``, ``fashn-vton-1.5``, ``auto``);
for the learned engine also the per-step sampling times, and which provider ran:

    FASHN_VTON_DIR=/srv/fashn-bundle python bench/tryon.py --engine fashn-vton-1.5 --people ... --garments ...
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw
from skimage.metrics import structural_similarity

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from imaging import onnx_runtime as onnx  # noqa: E402
from imaging.errors import PipelineError  # noqa: E402
from imaging.image_io import QUALITY_LONG_SIDE, load_rgb, resize_long_side  # noqa: E402
from imaging.tryon.classical.garment import analyze_garment  # noqa: E402
from imaging.tryon.classical.pose import Landmark, detect_pose  # noqa: E402
from imaging.tryon.classical.selfcheck import ERROR_CODE as SELF_CHECK_CODE  # noqa: E402
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


# --------------------------------------------------------------------------- objective measures

TRANSFER_DE = 20.0  # CIE76: under this the torso reads as the garment's colour
SSIM_GOOD = 0.95


def _lab(rgb: np.ndarray) -> np.ndarray:
    return np.asarray(cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab))


def _box(image: np.ndarray, x0: float, y0: float, x1: float, y1: float) -> tuple[slice, slice] | None:
    h, w = image.shape[:2]
    a, b = int(np.clip(x0, 0, w)), int(np.clip(x1, 0, w))
    c, d = int(np.clip(y0, 0, h)), int(np.clip(y1, 0, h))
    return (slice(c, d), slice(a, b)) if b - a >= 16 and d - c >= 16 else None


@dataclass
class Boxes:
    """Where to measure on one person photo (after the quality's resize), from the pose alone."""

    head: tuple[slice, slice] | None
    legs: tuple[slice, slice] | None  # from mid-thigh down
    torso: tuple[slice, slice] | None  # the middle of the trunk
    thighs: tuple[slice, slice] | None


def person_boxes(rgb: np.ndarray) -> Boxes:
    pose = detect_pose(rgb)

    def pt(lm: Landmark) -> np.ndarray:
        return np.asarray(pose.point(lm), np.float64)

    face = np.array([pt(m) for m in (Landmark.NOSE, Landmark.LEFT_EYE, Landmark.RIGHT_EYE, Landmark.LEFT_EAR,
                                     Landmark.RIGHT_EAR, Landmark.MOUTH_LEFT, Landmark.MOUTH_RIGHT)])  # fmt: skip
    sh = np.array([pt(Landmark.LEFT_SHOULDER), pt(Landmark.RIGHT_SHOULDER)])
    hips = np.array([pt(Landmark.LEFT_HIP), pt(Landmark.RIGHT_HIP)])
    knees = np.array([pt(Landmark.LEFT_KNEE), pt(Landmark.RIGHT_KNEE)])
    ankles = np.array([pt(Landmark.LEFT_ANKLE), pt(Landmark.RIGHT_ANKLE)])
    sw = float(np.linalg.norm(sh[0] - sh[1]))
    # The head: the face's landmarks, out to the hair and down to the chin (not the neck, which a
    # new neckline may rightly change).
    fw = max(float(np.ptp(face[:, 0])), 0.3 * sw)
    head = _box(rgb, face[:, 0].min() - 0.35 * fw, face[:, 1].min() - 1.0 * fw,
                face[:, 0].max() + 0.35 * fw, face[:, 1].max() + 0.2 * fw)  # fmt: skip
    hip_y, knee_y = float(hips[:, 1].mean()), float(knees[:, 1].mean())
    xs = np.concatenate([hips[:, 0], knees[:, 0], ankles[:, 0]])
    legs = _box(rgb, xs.min() - 0.25 * sw, hip_y + 0.5 * (knee_y - hip_y), xs.max() + 0.25 * sw,
                float(ankles[:, 1].max()) + 0.15 * sw)  # fmt: skip
    sh_y = float(sh[:, 1].mean())
    torso = _box(rgb, sh[:, 0].min() + 0.25 * sw, sh_y + 0.3 * (hip_y - sh_y),
                 sh[:, 0].max() - 0.25 * sw, sh_y + 0.7 * (hip_y - sh_y))  # fmt: skip
    thighs = _box(rgb, hips[:, 0].min(), hip_y + 0.15 * (knee_y - hip_y), hips[:, 0].max(),
                  hip_y + 0.6 * (knee_y - hip_y))  # fmt: skip
    return Boxes(head=head, legs=legs, torso=torso, thighs=thighs)


def ssim(a: np.ndarray, b: np.ndarray, box: tuple[slice, slice] | None) -> float:
    if box is None:
        return float("nan")
    ga = cv2.cvtColor(np.ascontiguousarray(a[box]), cv2.COLOR_RGB2GRAY)
    gb = cv2.cvtColor(np.ascontiguousarray(b[box]), cv2.COLOR_RGB2GRAY)
    return float(structural_similarity(ga, gb, data_range=255))


def garment_colour(rgb: np.ndarray) -> np.ndarray | None:
    """The garment's median Lab colour over its own cut-out."""
    try:
        g = analyze_garment(rgb)
    except PipelineError:
        return None
    inside = g.alpha > 0.5
    rgb8 = np.clip(np.asarray(g.rgb, np.float32), 0, 255).astype(np.uint8)
    return np.median(_lab(rgb8)[inside], axis=0) if inside.any() else None


def colour_distance(rgb: np.ndarray, box: tuple[slice, slice] | None, ref: np.ndarray | None) -> float:
    if box is None or ref is None:
        return float("nan")
    return float(np.linalg.norm(np.median(_lab(rgb[box]).reshape(-1, 3), axis=0) - ref))


def summary(values: list[float], good: float | None = None, above: bool = True) -> str:
    v = [x for x in values if np.isfinite(x)]
    if not v:
        return "n/a"
    out = f"median {np.median(v):.3f} min {min(v):.3f} max {max(v):.3f}"
    if good is not None:
        ok = sum((x >= good) if above else (x < good) for x in v)
        out += f"  {ok}/{len(v)} {'>=' if above else '<'} {good:g}"
    return out


def split_pairs(split: Path, half: str, images: Path, per_person: int) -> list[tuple[Path, Path]]:
    """Each person of the half with ``per_person`` of its garments, in turn (every garment is used)."""
    chosen = json.loads(split.read_text())[half]
    people = [images / "person" / n for n in chosen["person"]]
    garments = [images / "garment" / n for n in chosen["garment"]]
    return [
        (p, garments[(i * per_person + j) % len(garments)]) for i, p in enumerate(people) for j in range(per_person)
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=Path, help="every person photo of this folder with every garment")
    parser.add_argument("--garments", type=Path)
    parser.add_argument("--split", type=Path, help="a split file (bench/split.json): pairs from one of its halves")
    parser.add_argument("--half", default="check", help="the split's half: tuning or check")
    parser.add_argument("--images", type=Path, help="with --split: the folder holding person/ and garment/")
    parser.add_argument("--pairs-per-person", type=int, default=3)
    parser.add_argument("--limit-people", type=int, default=0)
    parser.add_argument("--limit-garments", type=int, default=0)
    parser.add_argument("--category", default="", help="only garments the analysis puts in this category (e.g. tops)")
    parser.add_argument("--quality", default="high", choices=["standard", "high"])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out")
    parser.add_argument("--engine", default="classical", help=f"auto or one of {', '.join(engine_names())}")
    parser.add_argument("--fashn-bundle", type=Path, help="the FASHN VTON bundle (default: $FASHN_VTON_DIR)")
    parser.add_argument("--seed", type=int, default=None, help="seed for engines that sample (same seed, same image)")
    parser.add_argument("--no-sheets", action="store_true", help="measure only")
    args = parser.parse_args()
    if args.fashn_bundle:
        from imaging.tryon import fashn_vton

        fashn_vton.configure(bundle_dir=args.fashn_bundle)
    engine = select_engine(args.engine)

    if args.split:
        if not args.images:
            parser.error("--split needs --images")
        pairs = split_pairs(args.split, args.half, args.images, args.pairs_per_person)
    else:
        if not (args.people and args.garments):
            parser.error("give --people and --garments, or --split")
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
        pairs = [(p, g) for p in people for g in garments]
    args.out.mkdir(parents=True, exist_ok=True)
    where = f"split {args.split} half {args.half}" if args.split else f"{args.people} x {args.garments}"
    print(f"{len(pairs)} pairs ({where}), quality={args.quality}, engine={engine.name}")

    garment_rgb = {g: load_rgb(g) for g in sorted({g for _, g in pairs})}
    garment_lab = {g: garment_colour(rgb) for g, rgb in garment_rgb.items()}
    timings: dict[str, list[float]] = {}
    step_times: list[float] = []
    providers_used: Counter[str] = Counter()
    failures: Counter[str] = Counter()
    done = 0
    rows: list[list[Image.Image]] = []
    sheet_no = 0
    head_ssim: list[float] = []
    legs_ssim: list[float] = []  # tops only
    de_before: list[float] = []
    de_after: list[float] = []
    skin: list[float] = []
    scores: list[float] = []
    old_left: list[float] = []
    folded: list[float] = []
    streaked: list[float] = []
    person_cache: dict[Path, tuple[np.ndarray, Boxes]] = {}
    for p, g in pairs:
        if p not in person_cache:
            rgb = load_rgb(p)
            resized = np.ascontiguousarray(resize_long_side(rgb, QUALITY_LONG_SIDE[args.quality]))
            person_cache[p] = (rgb, person_boxes(resized))
        person, boxes = person_cache[p]
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
            print(f"  FAIL {p.name} + {g.name}: {exc.code}: {exc.message[:140]}")
            rows.append([tile(person, p.name), tile(garment_rgb[g], g.name), tile(np.full_like(person, 40), exc.code)])
        except Exception as exc:  # noqa: BLE001 - a crash is a finding of the benchmark, counted, not fatal
            failures[f"CRASH {type(exc).__name__}"] += 1
            print(f"  CRASH {p.name} + {g.name}: {type(exc).__name__}: {exc}")
            rows.append([tile(person, p.name), tile(garment_rgb[g], g.name), tile(np.full_like(person, 40), "CRASH")])
        else:
            done += 1
            result.timings["end_to_end"] = time.perf_counter() - t0
            step_times += [float(s) for s in result.info.get("step_seconds", [])]  # type: ignore[attr-defined]
            if "provider" in result.info:
                providers_used[str(result.info["provider"])] += 1
            for k, v in result.timings.items():
                timings.setdefault(k, []).append(v)
            base = np.ascontiguousarray(resize_long_side(person, QUALITY_LONG_SIDE[args.quality]))
            if base.shape != result.image.shape:
                base = cv2.resize(base, (result.image.shape[1], result.image.shape[0]), interpolation=cv2.INTER_AREA)
            head_ssim.append(ssim(base, result.image, boxes.head))
            legs = ssim(base, result.image, boxes.legs) if result.category == "tops" else float("nan")
            legs_ssim.append(legs)
            where_box = boxes.thighs if result.category == "bottoms" else boxes.torso
            de_before.append(colour_distance(base, where_box, garment_lab[g]))
            de_after.append(colour_distance(result.image, where_box, garment_lab[g]))
            skin.append(float(result.info.get("self_check_skin", float("nan"))))  # type: ignore[arg-type]
            scores.append(float(result.info.get("self_check_score", float("nan"))))  # type: ignore[arg-type]
            old_left.append(float(result.info.get("self_check_old_visible", float("nan"))))  # type: ignore[arg-type]
            folded.append(float(result.info.get("self_check_folded", float("nan"))))  # type: ignore[arg-type]
            streaked.append(float(result.info.get("self_check_streaked", float("nan"))))  # type: ignore[arg-type]
            print(
                f"  ok   {p.name} + {g.name}: {result.category:<10} head {head_ssim[-1]:.3f} legs {legs:.3f}"
                f" dE {de_before[-1]:5.1f}->{de_after[-1]:5.1f} skin {skin[-1]:.3f} score {scores[-1]:.2f}"
                f" old {old_left[-1]:.3f} fold {folded[-1]:.3f} streak {streaked[-1]:.3f}"
                f" {result.timings['end_to_end']:.2f}s"
            )
            rows.append(
                [
                    tile(person, p.name),
                    tile(garment_rgb[g], g.name),
                    tile(result.image, f"{result.category} {result.timings['end_to_end']:.2f}s score {scores[-1]:.2f}"),
                ]
            )
        if len(rows) == PAIRS_PER_SHEET:
            if not args.no_sheets:
                save_sheet(rows, args.out / f"tryon_sheet_{sheet_no:03d}.png")
            rows, sheet_no = [], sheet_no + 1
    if rows:
        if not args.no_sheets:
            save_sheet(rows, args.out / f"tryon_sheet_{sheet_no:03d}.png")
        sheet_no += 1

    total = len(pairs)
    print(
        f"\ncompleted: {done}/{total} = {100 * done / max(total, 1):.1f}%"
        + (f"  failures: {dict(failures)}" if failures else "")
    )
    print(f"self-check rejections: {failures.get(SELF_CHECK_CODE, 0)}/{total}")
    print(f"head SSIM (all):      {summary(head_ssim, SSIM_GOOD)}")
    print(f"legs SSIM (tops):     {summary(legs_ssim, SSIM_GOOD)}")
    transferred = sum(1 for x in de_after if np.isfinite(x) and x < TRANSFER_DE)
    print(f"transfer: {transferred}/{total} = {100 * transferred / max(total, 1):.1f}% of pairs (dE < {TRANSFER_DE:g})")
    print(f"  dE input->garment:  {summary(de_before)}")
    print(f"  dE result->garment: {summary(de_after)}")
    print(f"synthesised skin share: {summary(skin)}")
    print(f"self-check score:       {summary(scores)}")
    print(f"old garment visible:    {summary(old_left)}")
    print(f"folded body piece:      {summary(folded)}")
    print(f"streaked sleeve:        {summary(streaked)}")
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
    if not args.no_sheets:
        print(f"contact sheets: {sheet_no} in {args.out}")
    return 0 if done == total else 1


if __name__ == "__main__":
    sys.exit(main())
