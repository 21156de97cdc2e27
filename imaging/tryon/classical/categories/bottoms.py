"""Bottoms: trousers, shorts, skirts; outlined by their waistband, hips, crotch and leg openings.

One piece, bent by a thin-plate spline from the waistband (at the body's waist, a
little wider than it), the hips and the leg openings (placed along the legs at the
garment's own length). It replaces the old lower garment; the upper body (head,
hands, arms and the top, which hangs over the waistband) stays in front of it, and
nothing uncovered becomes skin.
"""

from __future__ import annotations

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
    column = np.flatnonzero(mask[:, cx])
    crotch_y = float(column.max()) if column.size else top + 0.35 * gh
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
    m = similarity_fit(np.array([point(lm, "l_waist"), point(lm, "r_waist")]), np.array([t["l_waist"], t["r_waist"]]))
    scale = float(np.sqrt(abs(np.linalg.det(m[:, :2]))))
    if "l_hip" in lm:
        hip_c = mid_hip + 0.05 * torso_len * d
        hr, hl = body.width_at(hip_c, 0.5 * sw)
        gl, gr = apply_affine(m, point(lm, "l_hip")), apply_affine(m, point(lm, "r_hip"))
        half_g = np.dot(gl - gr, u) / 2
        t["l_hip"] = hip_c + max(half_g, 1.05 * hl) * u
        t["r_hip"] = hip_c - max(half_g, 1.05 * hr) * u
    t["crotch"] = apply_affine(m, point(lm, "crotch"))
    for side in ("l", "r"):
        chain = [kp[f"{side}_hip"], kp[f"{side}_knee"], kp[f"{side}_ankle"]]
        g_len = np.linalg.norm(point(lm, f"{side}_hem_out") - point(lm, f"{side}_waist")) * scale
        leg_len = sum(np.linalg.norm(b - a) for a, b in zip(chain[:-1], chain[1:], strict=False))
        p, dvec = along(chain, float(min(g_len * 0.95, leg_len * 1.02)))
        perp = np.array([-dvec[1], dvec[0]])
        sgn = 1.0 if np.dot(perp, u) > 0 else -1.0
        g_open = point(lm, f"{side}_hem_out") - point(lm, f"{side}_hem_in") if f"{side}_hem_in" in lm else None
        half = (np.linalg.norm(g_open) * scale / 2) if g_open is not None else 0.15 * sw
        out_sign = 1.0 if side == "l" else -1.0
        t[f"{side}_hem_out"] = p + out_sign * sgn * half * perp
        if f"{side}_hem_in" in lm:
            t[f"{side}_hem_in"] = p - out_sign * sgn * half * perp
    names = [n for n in t if n in lm]
    src = np.array([point(lm, n) for n in names])
    dst = np.array([t[n] for n in names])
    pairs = {n: (s, d_) for n, s, d_ in zip(names, src, dst, strict=False)}
    gh, gw = garment.alpha.shape
    ring = np.array([[0, 0], [gw - 1, 0], [0, gh - 1], [gw - 1, gh - 1]], np.float64)
    h, w = body.shape
    box = clip_box(dst, w, h, pad=0.1 * sw)
    piece = warp_piece(
        PIECE,
        garment.rgb,
        garment.alpha.astype(np.float32),
        np.concatenate([dst, apply_affine(m, ring)]),
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
        # What shorter bottoms uncover is filled from the surroundings; no skin is made.
        return revealed, np.zeros_like(revealed)
