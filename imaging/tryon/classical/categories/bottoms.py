"""Bottoms: trousers, shorts, skirts; outlined by their waistband, hips, crotch and leg openings.

One piece, bent by a thin-plate spline from the waistband (at the body's waist, a
little wider than it), the hips, the knees and the leg openings (placed along each
leg's hip-knee-ankle line at the garment's own length, never crossing the other leg).
It replaces the old lower garment; the upper body (head, hands, arms and the top,
which hangs over the waistband) stays in front of it, and nothing uncovered becomes skin.
"""

from __future__ import annotations

import cv2
import numpy as np

from imaging.masks import feather as feathered
from imaging.masks import union
from imaging.types import Category

from ..body import Body
from ..garment_model import GarmentAnalysis, Layering, Outline, point
from ..geometry import along, apply_affine, clip_box, similarity_fit
from ..silhouette import centre_runs, centre_x
from ..warp import WarpResult, warp_piece

# The one piece bottoms are warped as.
PIECE = "bottoms"
# Bottoms whose length (scaled by the waist fit) reaches this share of the hip-knee-ankle line are
# full-length and end at the ankle.
FULL_LENGTH = 0.8
# Where the crotch may sit below the hip joints, in torso lengths (shoulders to hips): the hip joints
# lie at the top of the thighs, the crotch some 0.1-0.25 torso lengths under them.
CROTCH_DROP = (0.05, 0.3)


def bottoms_landmarks(mask: np.ndarray) -> dict[str, np.ndarray]:
    """Landmarks of trousers, shorts or a skirt: waistband ends, crotch, leg openings."""
    h, w = mask.shape
    ys, xs = np.nonzero(mask)
    top, bottom = ys.min(), ys.max()
    gh = bottom - top + 1
    cx = centre_x(mask)
    left, right = centre_runs(mask, cx)
    wy = int(top + 0.03 * gh)
    while wy < bottom and np.isnan(left[wy]):
        wy += 1
    waist_img_l = np.array([left[wy], wy], np.float32)
    waist_img_r = np.array([right[wy], wy], np.float32)
    crotch_y = _crotch_row(mask[:, cx], wy, gh)
    crotch = np.array([cx, crotch_y], np.float32)
    # Leg openings: outer and inner ends of the bottom rows, per side of the centre.
    by = int(top + 0.98 * gh)
    row = np.flatnonzero(mask[by])
    lm = {"r_waist": waist_img_l, "l_waist": waist_img_r, "crotch": crotch}
    lrow, rrow = row[row < cx], row[row >= cx]
    if lrow.size and rrow.size and crotch_y < bottom - 0.08 * gh:
        lm.update(
            r_hem_out=np.array([lrow.min(), by], np.float32),
            r_hem_in=np.array([lrow.max(), by], np.float32),
            l_hem_in=np.array([rrow.min(), by], np.float32),
            l_hem_out=np.array([rrow.max(), by], np.float32),
        )
    else:  # a skirt: one opening
        lm.update(r_hem_out=np.array([row.min(), by], np.float32), l_hem_out=np.array([row.max(), by], np.float32))
    # Hip line: a quarter of the way from the waistband to the crotch... widest run there.
    hy = int(wy + 0.5 * (crotch_y - wy))
    if not np.isnan(left[hy]):
        lm["r_hip"] = np.array([left[hy], hy], np.float32)
        lm["l_hip"] = np.array([right[hy], hy], np.float32)
    return lm


def _crotch_row(column: np.ndarray, waist_y: int, gh: int) -> float:
    """The crotch on the garment's centre column: where the column first leaves the garment below the
    waistband for a real stretch (5% of the garment's height). Wide or flared legs may touch again
    lower down, so the column's last garment pixel is not the crotch; a skirt's column never leaves."""
    below = column[waist_y:].astype(bool)
    if not below.any():
        return waist_y + 0.35 * gh
    gap = np.concatenate([[False], ~below, [False]]).astype(np.int8)
    starts, ends = np.flatnonzero(np.diff(gap) == 1), np.flatnonzero(np.diff(gap) == -1)
    first_in = int(np.argmax(below))
    for start, end in zip(starts, ends, strict=True):
        if start > first_in and end - start >= 0.05 * gh:
            return float(waist_y + start - 1)
    return float(waist_y + np.flatnonzero(below).max())


def old_garment_top(body: Body, mid_hip: np.ndarray, u: np.ndarray, d: np.ndarray, sw: float) -> float | None:
    """How far above the hip joints the old lower garment reaches within the hips' width (its
    highest few percent of pixels, so a stray speck does not count), or None without one."""
    if body.lower is None or not body.lower.any():
        return None
    ys, xs = np.nonzero(body.lower)
    rel = np.stack([xs - mid_hip[0], ys - mid_hip[1]], axis=1).astype(np.float64)
    above = -(rel @ d)
    near = (np.abs(rel @ u) < 0.45 * sw) & (above > 0)
    if near.sum() < 20:
        return None
    return float(np.percentile(above[near], 97))


def fit_bottoms(garment: GarmentAnalysis, body: Body) -> WarpResult:
    lm = garment.landmarks
    kp = body.kp
    u, d = body.u, body.d
    sw = body.shoulder_width
    mid_hip = (kp["l_hip"] + kp["r_hip"]) / 2
    mid_sh = (kp["l_shoulder"] + kp["r_shoulder"]) / 2
    torso_len = max(float(np.dot(mid_hip - mid_sh, d)), 0.8 * sw)
    waist_c = mid_hip - 0.15 * torso_len * d
    wr, wl = body.width_at(waist_c, 0.45 * sw)
    t = {"l_waist": waist_c + 1.04 * wl * u, "r_waist": waist_c - 1.04 * wr * u}
    top = old_garment_top(body, mid_hip, u, d, sw)
    if top is not None and top > 0.15 * torso_len:
        # The old trousers' waistband higher than the usual waist (high-waisted, or worn high) would
        # show between the top and the new waistband: the new band is lifted there (its width stays
        # the waist's, so the garment's scale does not change).
        lift = min(top - 0.15 * torso_len, 0.2 * torso_len) * d
        t = {k: v - lift for k, v in t.items()}
    m = similarity_fit(np.array([point(lm, "l_waist"), point(lm, "r_waist")]), np.array([t["l_waist"], t["r_waist"]]))
    scale = float(np.sqrt(abs(np.linalg.det(m[:, :2]))))
    if "l_hip" in lm:
        hip_c = mid_hip + 0.05 * torso_len * d
        hr, hl = body.width_at(hip_c, 0.5 * sw)
        gl, gr = apply_affine(m, point(lm, "l_hip")), apply_affine(m, point(lm, "r_hip"))
        half_g = np.dot(gl - gr, u) / 2
        t["l_hip"] = hip_c + max(half_g, 1.05 * hl) * u
        t["r_hip"] = hip_c - max(half_g, 1.05 * hr) * u
    # The crotch sits at the body's, a little below the hip joints, whatever the garment's rise: scaled
    # with the waist, a high-rise cut on a wide waist put it at the knees and stretched the legs' print.
    crotch = apply_affine(m, point(lm, "crotch"))
    drop = float(np.dot(crotch - mid_hip, d)) / torso_len
    t["crotch"] = crotch + (float(np.clip(drop, *CROTCH_DROP)) - drop) * torso_len * d
    g_waist_y = (point(lm, "l_waist")[1] + point(lm, "r_waist")[1]) / 2
    mask = garment.alpha > 0.5
    legs: dict[str, tuple[np.ndarray, np.ndarray, float, float]] = {}
    for side in ("l", "r"):
        chain = [kp[f"{side}_hip"], kp[f"{side}_knee"], kp[f"{side}_ankle"]]
        g_len = float(np.linalg.norm(point(lm, f"{side}_hem_out") - point(lm, f"{side}_waist"))) * scale
        leg_len = float(sum(np.linalg.norm(b - a) for a, b in zip(chain[:-1], chain[1:], strict=False)))
        if leg_len < 1.2 * torso_len:
            # A leg shorter than the trunk is a pose guess for legs the frame cuts off, not the leg:
            # the garment keeps the length its waist width gives it, straight down past the frame.
            chain = [kp[f"{side}_hip"], kp[f"{side}_hip"] + 2.0 * torso_len * d]
            leg_len = 2.0 * torso_len
        # Trousers within reach of the ankle are full-length ones: they end there whatever the person's
        # proportions (a slim, long-legged person would otherwise wear them at mid-shin). Shorter ones
        # (shorts, culottes, skirts) keep the length their waist width gives them.
        full_length = g_len >= FULL_LENGTH * leg_len
        length = float(leg_len * 1.02 if full_length else min(g_len * 0.95, leg_len * 1.02))
        p, dvec = along(chain, length)
        g_open = point(lm, f"{side}_hem_out") - point(lm, f"{side}_hem_in") if f"{side}_hem_in" in lm else None
        half = float(np.linalg.norm(g_open) * scale / 2) if g_open is not None else 0.15 * sw
        legs[side] = (p, dvec, half, length)
    # Each trouser leg is laid along its own leg; a leg opening wider than the room beside the other
    # leg is moved outward instead of crossing it (crossing folds the warp and smears both legs).
    two_legs = "l_hem_in" in lm and "r_hem_in" in lm
    for side in ("l", "r"):
        p, dvec, half, length = legs[side]
        perp = np.array([-dvec[1], dvec[0]])
        sgn = 1.0 if np.dot(perp, u) > 0 else -1.0
        out_sign = 1.0 if side == "l" else -1.0
        outward = out_sign * sgn * perp
        if two_legs:
            mid = (legs["l"][0] + legs["r"][0]) / 2
            inner = p - half * outward
            room = out_sign * float(np.dot(inner - mid, u)) - 0.02 * sw
            if room < 0:
                p = p - room * out_sign * u
        t[f"{side}_hem_out"] = p + half * outward
        if f"{side}_hem_in" in lm:
            t[f"{side}_hem_in"] = p - half * outward
        # The knee: the garment's row as far down its leg as the knee is down the person's, its leg's
        # run there centred on the knee, so the leg follows the hip-knee-ankle line, not a straight one.
        knee = kp[f"{side}_knee"]
        to_knee = float(np.linalg.norm(knee - kp[f"{side}_hip"]))
        hem_y = point(lm, f"{side}_hem_out")[1]
        if not two_legs or to_knee > 0.85 * length or length < 1.2 * torso_len:
            continue
        ky = int(round(g_waist_y + (hem_y - g_waist_y) * (to_knee + 0.15 * torso_len) / (length + 0.15 * torso_len)))
        if not (point(lm, "crotch")[1] < ky < hem_y):
            continue
        cx = point(lm, "crotch")[0]
        row = np.flatnonzero(mask[ky])
        run = row[row >= cx] if side == "l" else row[row < cx]
        if run.size < 2:
            continue
        k_half = (run.max() - run.min()) * scale / 2
        shin = kp[f"{side}_ankle"] - knee
        kdir = shin / max(float(np.linalg.norm(shin)), 1e-6)
        kperp = np.array([-kdir[1], kdir[0]])
        kout = out_sign * (1.0 if np.dot(kperp, u) > 0 else -1.0) * kperp
        kc = knee.copy()
        k_mid = (kp["l_knee"] + kp["r_knee"]) / 2
        k_room = out_sign * float(np.dot(kc - k_half * kout - k_mid, u)) - 0.02 * sw
        if k_room < 0:
            kc = kc - k_room * out_sign * u
        g_out = np.array([run.max() if side == "l" else run.min(), ky], np.float32)
        g_in = np.array([run.min() if side == "l" else run.max(), ky], np.float32)
        lm = {**lm, f"{side}_knee_out": g_out, f"{side}_knee_in": g_in}
        t[f"{side}_knee_out"] = kc + k_half * kout
        t[f"{side}_knee_in"] = kc - k_half * kout
    names = [n for n in t if n in lm]
    src = np.array([point(lm, n) for n in names])
    dst = np.array([t[n] for n in names])
    pairs = {n: (s, d_) for n, s, d_ in zip(names, src, dst, strict=False)}
    gh, gw = garment.alpha.shape
    ring = np.array([[0, 0], [gw - 1, 0], [0, gh - 1], [gw - 1, gh - 1]], np.float64)
    # The photo's top corners go where the waist fit puts them; each bottom corner moves with the hem
    # beside it. (Left at the waist fit, a bottom corner sat above a lengthened hem or beside a hem moved
    # in to its leg, and the warp folded or bulged between them.)
    ring_dst = apply_affine(m, ring)
    for corner, hem in ((2, "r_hem_out"), (3, "l_hem_out")):
        ring_dst[corner] += t[hem] - apply_affine(m, point(lm, hem))
    h, w = body.shape
    box = clip_box(dst, w, h, pad=0.1 * sw)
    piece = warp_piece(
        PIECE,
        garment.rgb,
        garment.alpha.astype(np.float32),
        np.concatenate([dst, ring_dst]),
        np.concatenate([src, ring]),
        box,
        smoothing=1e-2,
    )
    return WarpResult(pieces=[piece] if piece else [], pairs=pairs, scale=scale)


class Bottoms:
    """Bottoms (see the module's docstring)."""

    category: Category = Category.BOTTOMS
    body_piece: str = PIECE
    replaces: tuple[str, ...] = ("lower_body",)
    # What narrower or shorter bottoms uncover is the backdrop behind the legs.
    fills_from_background: bool = True

    def outline(self, silhouette: np.ndarray) -> Outline:
        return Outline(landmarks=bottoms_landmarks(silhouette), sleeves={}, torso=silhouette)

    def fit(self, garment: GarmentAnalysis, body: Body) -> WarpResult:
        return fit_bottoms(garment, body)

    def in_front(self, regions: dict[str, np.ndarray], body: Body, feather: float) -> Layering:
        upper_body = union(regions, "face_hair_neck", "hands", "arms", "arm_skin", "sleeves", "upper_garment")
        front = feathered(upper_body, feather)
        return Layering(over_body_piece=front, over_other_pieces=front)

    def join_pieces(
        self, rgb: np.ndarray, pieces: dict[str, np.ndarray], shoulder_width: float
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        return rgb, pieces  # one piece: no seams

    def leftovers(
        self,
        person_rgb: np.ndarray,
        old: np.ndarray,
        regions: dict[str, np.ndarray],
        alpha: np.ndarray,
        body: Body,
    ) -> np.ndarray:
        return np.zeros_like(old)

    def uncovered(
        self,
        person_rgb: np.ndarray,
        revealed: np.ndarray,
        pieces: dict[str, np.ndarray],
        regions: dict[str, np.ndarray],
        body: Body,
    ) -> tuple[np.ndarray, np.ndarray]:
        # What shorter bottoms uncover is filled from the surroundings; no skin is made. Shoes the
        # person analysis counted as the lower garment are not uncovered garment: they stay.
        return revealed & ~shoes(person_rgb, revealed, regions, body), np.zeros_like(revealed)


def shoes(person_rgb: np.ndarray, revealed: np.ndarray, regions: dict[str, np.ndarray], body: Body) -> np.ndarray:
    """Pixels of ``revealed`` that are the feet: below an ankle (along its shin), near it, and of a
    colour unlike the old garment's on the thighs (trousers hanging past the ankle are still filled)."""
    out = np.zeros_like(revealed)
    kp = body.kp
    lower = regions.get("lower_body")
    if lower is None or not revealed.any() or not all(f"{s}_{j}" in kp for s in "lr" for j in ("hip", "knee", "ankle")):
        return out
    h, w = revealed.shape
    ys, xs = np.nonzero(revealed)
    pts = np.stack([xs, ys], axis=1).astype(np.float64)
    lab = cv2.cvtColor(person_rgb, cv2.COLOR_RGB2Lab).astype(np.float32)
    lab[..., 0] *= 100.0 / 255.0
    yy, xx = np.nonzero(lower)
    q = np.stack([xx, yy], axis=1).astype(np.float64)
    for side in ("l", "r"):
        hip, knee, ankle = kp[f"{side}_hip"], kp[f"{side}_knee"], kp[f"{side}_ankle"]
        shin = ankle - knee
        n = float(np.linalg.norm(shin))
        if n < 1.0 or not (0 <= ankle[0] < w and 0 <= ankle[1] < h):
            continue
        # The old garment's colour on this thigh: a band around the hip-knee segment.
        seg = knee - hip
        f = np.clip(((q - hip) @ seg) / max(float(seg @ seg), 1e-6), 0, 1)
        thigh = np.linalg.norm(q - (hip + f[:, None] * seg), axis=1) < 0.2 * n
        if thigh.sum() < 20:
            continue
        ref = np.median(lab[yy[thigh], xx[thigh]], axis=0)
        below = ((pts - ankle) @ (shin / n)) > -0.05 * n
        near = np.linalg.norm(pts - ankle, axis=1) < 0.6 * n
        far_colour = np.linalg.norm(lab[ys, xs] - ref, axis=1) > 20.0
        pick = below & near & far_colour
        out[ys[pick], xs[pick]] = True
    return out
