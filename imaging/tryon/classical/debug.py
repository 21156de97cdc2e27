"""The classical engine's debug overlays: what each stage saw, drawn over its input.

``run_tryon(..., debug_dir=...)`` writes them; nothing here changes a result.
"""

from __future__ import annotations

import cv2
import numpy as np

from imaging.debug import blend, draw_outline, pixel

from .compose import Composite
from .garment_model import GarmentAnalysis
from .person import PersonAnalysis
from .pose import MIN_VISIBILITY, SKELETON
from .selfcheck import SelfCheck
from .warp import WarpResult

# The regions overlay of step 1 (added light: overlapping regions mix).
REGION_TINTS = {
    "face_hair_neck": (255, 200, 0),
    "arm_skin": (255, 120, 120),
    "sleeves": (200, 0, 200),
    "hands": (255, 0, 0),
    "upper_garment": (0, 200, 255),
    "lower_body": (0, 200, 0),
    "arms": (255, 120, 120),
}


def draw_regions(rgb: np.ndarray, regions: dict[str, np.ndarray]) -> np.ndarray:
    """The person's regions lit in their colours over the darkened photo."""
    out = rgb.astype(np.float32) * 0.4
    for name, colour in REGION_TINTS.items():
        if name in regions and name != "arms":
            out[regions[name]] += 0.6 * np.array(colour, np.float32)
    return np.clip(out, 0, 255).astype(np.uint8)


# The person overlay (blended: the last region drawn wins).
REGION_COLOURS = {
    "background": (0, 0, 0),
    "lower_body": (40, 90, 220),
    "upper_garment": (230, 60, 60),
    "torso_skin": (250, 200, 120),
    "arm_skin": (255, 160, 60),
    "hands": (250, 240, 40),
    "face_hair_neck": (60, 200, 90),
}


def draw_person_debug(analysis: PersonAnalysis) -> np.ndarray:
    """RGB overlay: regions coloured, sleeves hatched darker, skeleton and landmarks, torso axis and waist."""
    rgb = analysis.rgb
    tint = rgb.astype(np.float32).copy()
    for name, colour in REGION_COLOURS.items():
        blend(tint, analysis.regions[name], colour, 0.25 if name == "background" else 0.5)
    blend(tint, analysis.regions["sleeves"], (150, 30, 150), 0.5)
    out = tint.astype(np.uint8)
    thickness = max(1, round(max(rgb.shape[:2]) / 400))
    draw_outline(out, analysis.mask, (255, 255, 255), thickness)
    pts = analysis.pose.landmarks
    for a, b in SKELETON:
        cv2.line(out, pixel(pts[a]), pixel(pts[b]), (0, 255, 0), thickness, cv2.LINE_AA)
    for i, p in enumerate(pts):
        colour = (255, 255, 0) if i % 2 else (0, 160, 255)  # person's left yellow, right blue
        if analysis.pose.visibility[i] < MIN_VISIBILITY:
            colour = (128, 128, 128)
        cv2.circle(out, pixel(p), thickness * 2 + 1, colour, -1, cv2.LINE_AA)
    # Waist line across the torso.
    kp = analysis.keypoints
    neck, hip = kp["neck"], kp["mid_hip"]
    centre = neck + (hip - neck) * analysis.waist_y
    half = (kp["l_shoulder"] - kp["r_shoulder"]) * 0.8
    cv2.line(out, pixel(centre - half), pixel(centre + half), (255, 0, 255), thickness, cv2.LINE_AA)
    if analysis.pose.roi is not None:
        cv2.polylines(out, [np.round(analysis.pose.roi.corners()).astype(np.int32)], True, (255, 0, 255), thickness)
    return out


def draw_garment_debug(garment: GarmentAnalysis) -> np.ndarray:
    """The cut-out garment on grey with its torso/sleeve split and landmarks drawn."""
    a = garment.alpha[..., None]
    out = (garment.rgb * a + 128 * (1 - a)).astype(np.uint8)
    out = np.ascontiguousarray(out)
    colours = {"l": (255, 0, 160), "r": (0, 160, 255)}
    for side, s in garment.sleeves.items():
        draw_outline(out, s.mask, colours[side], 2)
        cv2.line(out, tuple(int(v) for v in s.shoulder), tuple(int(v) for v in s.cuff), colours[side], 2)
    r = max(3, garment.rgb.shape[0] // 150)
    for name, p in garment.landmarks.items():
        colour = (255, 60, 60) if name.startswith("l_") else (60, 60, 255) if name.startswith("r_") else (40, 200, 40)
        cv2.circle(out, (int(p[0]), int(p[1])), r, colour, -1)
        cv2.putText(out, name, (int(p[0]) + r, int(p[1]) - r), cv2.FONT_HERSHEY_SIMPLEX, 0.35 * r / 3, colour, 1)
    cv2.putText(out, garment.category, (10, 30), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (0, 0, 0), 2)
    return out


def draw_warp_debug(person_rgb: np.ndarray, garment: GarmentAnalysis, warp: WarpResult) -> np.ndarray:
    """The warped garment over the person, the garment's grid lines bent by the warp, and the control pairs."""
    rgb, alpha, _ = warp.layers(person_rgb.shape[:2])
    out = (person_rgb * (1 - 0.7 * alpha[..., None]) + rgb * 0.7 * alpha[..., None]).astype(np.uint8)
    step = max(8, garment.alpha.shape[0] // 20)
    for piece in warp.pieces:
        x0, y0 = piece.box[:2]
        inside = piece.alpha > 0.05
        lines = ((np.mod(piece.map_x, step) < 1.2) | (np.mod(piece.map_y, step) < 1.2)) & inside
        sub = out[y0 : y0 + lines.shape[0], x0 : x0 + lines.shape[1]]
        sub[lines] = (0, 255, 255) if piece.name == "torso" else (255, 0, 255)
    out = np.ascontiguousarray(out)
    for name, (_, dst) in warp.pairs.items():
        cv2.circle(out, (int(dst[0]), int(dst[1])), 4, (255, 60, 0), -1)
        cv2.putText(out, name, (int(dst[0]) + 4, int(dst[1])), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (255, 60, 0), 1)
    return out


def draw_compose_debug(person_rgb: np.ndarray, comp: Composite) -> np.ndarray:
    """Final mask overlay: edited region tinted, garment alpha in green, refilled pixels in red
    (skin) or blue (surroundings grown in)."""
    out = person_rgb.astype(np.float32) * 0.5
    out[..., 1] += 127 * comp.garment_alpha
    skin = comp.skin if comp.skin is not None else np.zeros_like(comp.revealed)
    out[..., 0] += 127 * skin
    out[..., 2] += 127 * (comp.revealed & ~skin)
    edge = cv2.morphologyEx(comp.edited_mask.astype(np.uint8), cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) > 0
    out[edge] = (255, 255, 0)
    return np.clip(out, 0, 255).astype(np.uint8)


def draw_self_check(comp: Composite, zone: np.ndarray, check: SelfCheck) -> np.ndarray:
    """The self-check: the zone the garment must cover outlined in green, its uncovered part in
    red, made-up pixels in blue (skin in orange), the old top's colours left about the shoulders in
    magenta, the scores written at the top."""
    out = comp.image.astype(np.float32)
    shown = comp.garment_alpha > 0.5
    front = comp.in_front if comp.in_front is not None else np.zeros_like(shown)
    skin = comp.skin if comp.skin is not None else np.zeros_like(shown)
    blend(out, zone & ~(shown | front), (255, 0, 0), 0.6)
    blend(out, comp.revealed & ~shown & ~skin, (0, 80, 255), 0.5)
    blend(out, comp.revealed & ~shown & skin, (255, 150, 0), 0.5)
    if comp.old_top_left is not None:
        blend(out, comp.old_top_left, (255, 0, 255), 0.7)
    image = np.clip(out, 0, 255).astype(np.uint8)
    draw_outline(image, zone, (0, 255, 0), 2)
    text = (
        f"score {check.score:.2f} cover {check.coverage:.2f} invented {check.invented:.2f}"
        f" skin {check.skin:.2f} off {check.off_body:.2f} old {check.old_visible:.2f}"
    )
    cv2.putText(image, text, (8, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 0, 0), 2, cv2.LINE_AA)
    return image
