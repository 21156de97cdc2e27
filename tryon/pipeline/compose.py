"""Compose: put the warped garment into the photo.

Order of work, all on the person photo's pixel grid:
1. Layer order: the new garment goes over the body, but hair, face, hands (and, for
   the torso piece, the arms) stay in front of it.
2. The old garment where the new one does not cover it is replaced: by skin on the
   arms and on the body's core, by the surroundings (inpainting at low resolution)
   elsewhere.
3. The photo's shading and folds carry onto the new fabric: the high-pass of the old
   garment's luminance multiplies the new garment's colour.
4. Edges are feathered; every pixel outside the edited region stays byte-identical.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .warp import Body, WarpResult


@dataclass
class Composite:
    image: np.ndarray  # HxWx3 uint8
    edited_mask: np.ndarray  # HxW bool: the only pixels that may differ from the input
    garment_alpha: np.ndarray  # HxW float32: the new garment as seen (after occlusion)
    revealed: np.ndarray  # HxW bool: old garment uncovered and filled
    shading: np.ndarray  # HxW float32: the multiplier applied to the new fabric


def _luminance(rgb: np.ndarray) -> np.ndarray:
    return (rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114).astype(np.float32) / 255.0


def _region(regions: dict[str, np.ndarray], *names: str) -> np.ndarray:
    shape = next(iter(regions.values())).shape
    out = np.zeros(shape, bool)
    for n in names:
        if n in regions:
            out |= regions[n]
    return out


def _feather(mask: np.ndarray, sigma: float) -> np.ndarray:
    m = mask.astype(np.float32)
    if sigma <= 0:
        return m
    return cv2.GaussianBlur(m, (0, 0), sigma)


def skin_colour(rgb: np.ndarray, regions: dict[str, np.ndarray], body: Body | None = None) -> np.ndarray:
    """The person's typical skin colour: bare arms first, else the face around the nose (not the hair)."""
    ycrcb = cv2.cvtColor(rgb, cv2.COLOR_RGB2YCrCb)
    skin_like = (ycrcb[..., 1] >= 133) & (ycrcb[..., 1] <= 180) & (ycrcb[..., 2] >= 77) & (ycrcb[..., 2] <= 135)
    sel = _region(regions, "arm_skin") & skin_like
    if sel.sum() > 400:
        return np.median(rgb[sel], axis=0).astype(np.float32)
    face = _region(regions, "face_hair_neck") & skin_like
    if body is not None and "nose" in body.kp:
        h, w = face.shape
        yy, xx = np.ogrid[0:h, 0:w]
        nose = body.kp["nose"]
        face &= (xx - nose[0]) ** 2 + (yy - nose[1]) ** 2 < (0.25 * body.shoulder_width) ** 2
    for sel in (face, _region(regions, "hands") & skin_like):
        if sel.sum() > 100:
            return np.median(rgb[sel], axis=0).astype(np.float32)
    return np.array([200, 160, 135], np.float32)  # no skin visible anywhere: a neutral mid tone


def _body_core(body: Body) -> np.ndarray:
    """The trunk between the shoulder joints and the hips: bare skin if the garment leaves it uncovered."""
    kp = body.kp
    u, d = body.u, body.d
    sw = body.shoulder_width
    poly = np.array([
        kp["r_shoulder"] + 0.05 * sw * d, kp["l_shoulder"] + 0.05 * sw * d,
        kp["l_hip"] + 0.15 * sw * u + 0.1 * sw * d, kp["r_hip"] - 0.15 * sw * u + 0.1 * sw * d,
    ])
    core = np.zeros(body.shape, np.uint8)
    cv2.fillPoly(core, [np.round(poly).astype(np.int32)], 1)
    return core.astype(bool)


def compose(person_rgb: np.ndarray, regions: dict[str, np.ndarray], body: Body, warp: WarpResult,
            category: str) -> Composite:
    """Compose inside the box that holds the new garment and the old one (plus a margin for the
    blurs); everything outside it is the input, untouched."""
    h, w = person_rgb.shape[:2]
    g_rgb, g_alpha, pieces = warp.layers((h, w))
    old = _region(regions, "lower_body") if category == "bottoms" else _region(regions, "upper_garment", "sleeves")
    ys, xs = np.nonzero(old | (g_alpha > 0))
    if ys.size == 0:
        empty = np.zeros((h, w), bool)
        return Composite(person_rgb.copy(), empty, np.zeros((h, w), np.float32), empty, np.ones((h, w), np.float32))
    pad = int(0.25 * body.shoulder_width) + 8
    y0, y1 = max(0, ys.min() - pad), min(h, ys.max() + pad + 1)
    x0, x1 = max(0, xs.min() - pad), min(w, xs.max() + pad + 1)
    crop = (slice(y0, y1), slice(x0, x1))
    shift = np.array([x0, y0], np.float64)
    sub_body = Body(shape=(y1 - y0, x1 - x0), kp={k: v - shift for k, v in body.kp.items()},
                    torso=body.torso[crop], arms=body.arms[crop])
    sub = _compose_box(np.ascontiguousarray(person_rgb[crop]), {k: v[crop] for k, v in regions.items()}, sub_body,
                       g_rgb[crop], {k: v[crop] for k, v in pieces.items()}, category)
    image = person_rgb.copy()
    image[crop] = sub.image
    edited = np.zeros((h, w), bool)
    edited[crop] = sub.edited_mask
    alpha = np.zeros((h, w), np.float32)
    alpha[crop] = sub.garment_alpha
    revealed = np.zeros((h, w), bool)
    revealed[crop] = sub.revealed
    shading = np.ones((h, w), np.float32)
    shading[crop] = sub.shading
    return Composite(image=image, edited_mask=edited, garment_alpha=alpha, revealed=revealed, shading=shading)


def _compose_box(person_rgb: np.ndarray, regions: dict[str, np.ndarray], body: Body, g_rgb: np.ndarray,
                 pieces: dict[str, np.ndarray], category: str) -> Composite:
    h, w = person_rgb.shape[:2]
    sw = body.shoulder_width
    feather = max(0.6, 0.004 * sw)

    head = _region(regions, "face_hair_neck")
    hands = _region(regions, "hands")
    arms = _region(regions, "arms", "arm_skin", "sleeves")
    if category == "bottoms":
        old = _region(regions, "lower_body")
        front_all = _feather(head | hands | arms | _region(regions, "upper_garment"), feather)
        front_torso = front_all
        piece_names = ["bottoms"]
    else:
        old = _region(regions, "upper_garment", "sleeves")
        kp = body.kp
        mid_sh = (kp["l_shoulder"] + kp["r_shoulder"]) / 2
        mid_hip = (kp["l_hip"] + kp["r_hip"]) / 2
        yy, xx = np.mgrid[0:h, 0:w]
        depth = (xx - mid_sh[0]) * body.d[0] + (yy - mid_sh[1]) * body.d[1]  # distance below the shoulder line
        # The head and neck stay in front down to the neck's base; below it the new garment
        # covers whatever the old neckline showed (a V-neck's chest, a collar).
        head = head & (depth < -0.16 * sw)
        front_all = _feather(head | hands, feather)
        # Arms hide the torso piece only below the armpits: above them, at the shoulder cap,
        # the garment covers the arm.
        below = depth > 0.22 * float(np.dot(mid_hip - mid_sh, body.d))
        front_torso = _feather(head | hands | (arms & below), feather)
        piece_names = [n for n in pieces if n != "bottoms"]

    # Visible garment alpha: the torso behind the arms, the sleeves over them; both behind hair and hands.
    alpha = np.zeros((h, w), np.float32)
    for name in piece_names:
        a = pieces[name]
        a = a * (1 - (front_torso if name in ("torso", "bottoms") else front_all))
        alpha = a + alpha * (1 - a)
    alpha = cv2.GaussianBlur(alpha, (0, 0), feather) if feather > 0 else alpha
    alpha = np.clip(alpha, 0, 1)

    # Old garment pixels the new one leaves uncovered.
    revealed = old & (alpha < 0.5)
    base = person_rgb.astype(np.float32)
    lum = _luminance(person_rgb)
    skin_zone = _skin_zone(revealed, alpha, regions, body, category)
    if skin_zone.any():
        base = _fill_skin(person_rgb, base, lum, skin_zone, regions, body)

    # Shading: high-pass of the photo's luminance over the old garment (folds, body roundness).
    sigma_hp = max(4.0, 0.08 * sw)
    lum_s = cv2.medianBlur((lum * 255).astype(np.uint8), 5).astype(np.float32) / 255.0
    eps = 0.06
    log_ratio = np.log((lum_s + eps) / (cv2.GaussianBlur(lum_s, (0, 0), sigma_hp) + eps))
    # Folds and body shading change the luminance by a few tens of percent; a print or logo on
    # the old garment by much more. Fade out large deviations so the old print does not ghost
    # through, and keep the rest.
    log_ratio = log_ratio * np.exp(-((log_ratio / 0.22) ** 2))
    log_ratio = cv2.GaussianBlur(log_ratio, (0, 0), 1.0)
    weight = _feather(old, 2 * feather)
    shading = np.exp(log_ratio * weight)
    shaded = np.clip(g_rgb * shading[..., None], 0, 255)

    out = base * (1 - alpha[..., None]) + shaded * alpha[..., None]
    out8 = np.clip(out + 0.5, 0, 255).astype(np.uint8)
    # The rest of the uncovered old garment: grow the surroundings into it (the new garment at
    # its sides, the background beyond), inpainted at low resolution.
    other = revealed & ~skin_zone
    if other.any():
        out8 = _inpaint(out8, other)
    edited = (alpha > 1.0 / 512) | cv2.dilate(revealed.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    image = np.where(edited[..., None], out8, person_rgb)
    return Composite(image=image, edited_mask=edited, garment_alpha=alpha, revealed=revealed, shading=shading)


def _skin_zone(revealed: np.ndarray, alpha: np.ndarray, regions: dict[str, np.ndarray], body: Body,
               category: str) -> np.ndarray:
    """Uncovered old-garment pixels that must become skin: on the arms, and across the trunk
    in rows the new garment no longer covers (a shorter top bares the midriff)."""
    if category == "bottoms":
        return np.zeros_like(revealed)
    # Bare arms only where an arm is: a capsule around shoulder -> elbow -> wrist (an old loose
    # sleeve also covered background, which the inpainting restores instead).
    kp = body.kp
    limbs = np.zeros(revealed.shape, np.uint8)
    radius = max(2, int(0.11 * body.shoulder_width))
    for side in ("l", "r"):
        chain = [kp[f"{side}_shoulder"], kp[f"{side}_elbow"], kp[f"{side}_wrist"]]
        for a, b in zip(chain[:-1], chain[1:], strict=True):
            cv2.line(limbs, (int(a[0]), int(a[1])), (int(b[0]), int(b[1])), 1, 2 * radius)
    arms = _region(regions, "arms", "arm_skin", "sleeves") & limbs.astype(bool)
    core = _body_core(body)
    covered = (alpha > 0.5) & core
    row_cover = covered.sum(axis=1) / np.maximum(core.sum(axis=1), 1)
    bare_rows = (row_cover < 0.3)[:, None]
    return revealed & (arms | (core & bare_rows))


def _fill_skin(person_rgb: np.ndarray, base: np.ndarray, lum: np.ndarray, zone: np.ndarray,
               regions: dict[str, np.ndarray], body: Body) -> np.ndarray:
    """Skin of the person's tone, shaded like the photo (smoothly, so the old print does not show)."""
    out = base.copy()
    tone = skin_colour(person_rgb, regions, body)
    sigma = max(3.0, 0.06 * body.shoulder_width)
    lum_blur = cv2.GaussianBlur(lum, (0, 0), sigma)
    ref = float(np.median(lum_blur[zone])) + 1e-3
    shade = np.clip(lum_blur[zone] / ref, 0.75, 1.15) ** 0.5
    skin = tone[None, :] * shade[:, None]
    # Grain so the filled skin does not look airbrushed next to real skin.
    rng = np.random.default_rng(0)
    out[zone] = skin + rng.normal(0, 2.0, skin.shape).astype(np.float32)
    return out


def _inpaint(image: np.ndarray, holes: np.ndarray) -> np.ndarray:
    h, w = holes.shape
    f = max(1, int(round(max(h, w) / 512)))
    small = cv2.resize(image, (w // f, h // f), interpolation=cv2.INTER_AREA)
    small_holes = cv2.resize(holes.astype(np.uint8), (w // f, h // f), interpolation=cv2.INTER_NEAREST)
    small_holes = cv2.dilate(small_holes, np.ones((3, 3), np.uint8))
    filled = cv2.inpaint(small, small_holes, 5, cv2.INPAINT_TELEA)
    big = cv2.resize(filled, (w, h), interpolation=cv2.INTER_LINEAR)
    out = image.copy()
    out[holes] = big[holes]
    return out


def draw_compose_debug(person_rgb: np.ndarray, comp: Composite) -> np.ndarray:
    """Final mask overlay: edited region tinted, garment alpha in green, refilled pixels in red."""
    out = person_rgb.astype(np.float32) * 0.5
    out[..., 1] += 127 * comp.garment_alpha
    out[..., 0] += 127 * comp.revealed
    edge = cv2.morphologyEx(comp.edited_mask.astype(np.uint8), cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) > 0
    out[edge] = (255, 255, 0)
    return np.clip(out, 0, 255).astype(np.uint8)
