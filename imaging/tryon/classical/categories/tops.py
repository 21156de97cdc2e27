"""Tops: T-shirts, shirts, sweaters, tanks; outlined by their neckline, shoulders, armpits, waist, hem and sleeves.

The garment's torso is bent by a thin-plate spline from its shoulders, neckline,
armpits, waist and hem to targets placed from the person's pose and silhouette;
each sleeve is a separate piece bent along its arm. It replaces the old top (its
torso and sleeves); the head, hands and the arms below the armpits stay in front
of it; what it leaves uncovered of the old top becomes skin on the arms and the
trunk's core, and the surroundings elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from imaging.masks import feather as feathered
from imaging.masks import largest_component, union
from imaging.types import Category

from ..body import Body, arm_reach, body_axis, depth_below_shoulders, leg_reach, torso_length, waistband_depth
from ..compose import dress_below_hem, fill_small_gaps, legs_under, old_straps, skin_zone
from ..garment_model import GarmentAnalysis, Layering, Outline, Sleeve, point
from ..geometry import along, apply_affine, clip_box, upright_fit
from ..silhouette import centre_runs, centre_x
from ..warp import WarpedPiece, WarpResult, warp_piece

# --------------------------------------------------------------------------- outline
#
# Measured row by row on the silhouette. Names with ``img_l`` / ``img_r`` are the image's
# left and right: the image's left is the wearer's right for a garment seen from the front.


@dataclass(frozen=True)
class _Rows:
    """A top's silhouette measured around its centre column."""

    mask: np.ndarray  # HxW bool
    top: int  # first and last garment rows
    bottom: int
    gh: int  # the garment's height in rows
    cx: int  # the centre column
    left: np.ndarray  # per row, the ends of the run of garment pixels through the centre column (NaN: none)
    right: np.ndarray
    rows: np.ndarray  # 0..H-1
    valid: np.ndarray  # rows where the centre column is garment
    ref_l: float  # the torso's sides in the lower torso (below any sleeve), robustly
    ref_r: float
    torso_w: float
    top_y: np.ndarray  # the top contour: the first garment row of every column (H where none)


def _measure_rows(mask: np.ndarray) -> _Rows:
    h, _ = mask.shape
    ys, _ = np.nonzero(mask)
    top, bottom = int(ys.min()), int(ys.max())
    gh = bottom - top + 1
    cx = centre_x(mask)
    left, right = centre_runs(mask, cx)
    rows = np.arange(h)
    valid = ~np.isnan(left)
    ref_band = valid & (rows > top + 0.55 * gh) & (rows < top + 0.9 * gh)
    if ref_band.sum() < 3:
        ref_band = valid
    ref_l, ref_r = float(np.median(left[ref_band])), float(np.median(right[ref_band]))
    col_has = mask.any(axis=0)
    top_y = np.where(col_has, np.argmax(mask, axis=0), h).astype(np.float32)
    return _Rows(
        mask=mask,
        top=top,
        bottom=bottom,
        gh=gh,
        cx=cx,
        left=left,
        right=right,
        rows=rows,
        valid=valid,
        ref_l=ref_l,
        ref_r=ref_r,
        torso_w=max(ref_r - ref_l, 1.0),
        top_y=top_y,
    )


def _body_rows(r: _Rows) -> np.ndarray:
    """Rows where the run through the centre is the body, reaching well to both sides of the centre:
    at the tip of a deep V-neck the run can start at the centre, and its ends there are neither an
    arm hole nor a waist."""
    with np.errstate(invalid="ignore"):
        return ((r.cx - r.left) > 0.25 * r.torso_w) & ((r.right - r.cx) > 0.25 * r.torso_w)


def _armpit_row(r: _Rows, edge: np.ndarray, outward: float) -> tuple[int, bool]:
    """The armpit's row on one side, and whether a sleeve joins the torso there.

    Walking up from the waist, the run jumps outwards where it meets a sleeve; without
    sleeves, it narrows into the arm hole.
    """
    jump = 0.12 * r.torso_w
    start = int(r.top + 0.6 * r.gh)
    stop = int(r.top + 0.08 * r.gh)
    prev = None
    for y in range(start, stop, -1):
        if np.isnan(edge[y]):
            continue
        if prev is not None and (edge[y] - prev) * outward > jump:
            return y + 1, True  # a sleeve joins the run: the armpit is just below
        prev = edge[y] if prev is None else 0.7 * prev + 0.3 * edge[y]
    # No sleeve joined: the arm hole starts where the side moves inwards by a clear margin.
    base = edge[start] if not np.isnan(edge[start]) else (r.ref_l if outward < 0 else r.ref_r)
    body_wide = _body_rows(r)
    for y in range(start, stop, -1):
        if not np.isnan(edge[y]) and body_wide[y] and (base - edge[y]) * outward > 0.1 * r.torso_w:
            return y, False
    return int(r.top + 0.3 * r.gh), False


def _shoulder_point(r: _Rows, armpit: np.ndarray, sleeved: bool, side: int) -> np.ndarray:
    """Where the top contour meets the line up from the armpit (sleeved), or the outermost point of
    the strap or shoulder tops (sleeveless); ``side`` -1 for the image's left, +1 for its right."""
    w = r.mask.shape[1]
    if sleeved:
        x = int(np.clip(armpit[0] - side * 0.02 * r.torso_w, 0, w - 1))
        return np.array([x, r.top_y[x]], np.float32)
    band = r.mask[r.top : int(r.top + 0.1 * r.gh) + 1]
    bx = np.flatnonzero(band.any(axis=0))
    bx = bx[bx < r.cx] if side < 0 else bx[bx > r.cx]
    if bx.size == 0:
        return np.array([armpit[0], r.top], np.float32)
    x = int(bx.min() if side < 0 else bx.max())
    return np.array([x, r.top_y[x]], np.float32)


def _neck_corner(r: _Rows, shoulder_x: float, side: int) -> np.ndarray:
    """The highest point of the top contour between a shoulder and the centre (nearest the centre on ties)."""
    a, b = (int(shoulder_x), r.cx) if side < 0 else (r.cx, int(shoulder_x) + 1)
    seg = r.top_y[a:b]
    if seg.size == 0:
        return np.array([r.cx, r.top], np.float32)
    best = seg.min()
    idx = np.flatnonzero(seg <= best + 0.01 * r.gh)
    x = a + (idx.max() if side < 0 else idx.min())
    return np.array([x, r.top_y[x]], np.float32)


def _neck_centre(r: _Rows, corner_img_l: np.ndarray, corner_img_r: np.ndarray) -> np.ndarray:
    """The neckline's centre: the lowest point of the top contour between its corners."""
    h = r.mask.shape[0]
    lo, hi = int(min(corner_img_l[0], corner_img_r[0])), int(max(corner_img_l[0], corner_img_r[0])) + 1
    seg = r.top_y[lo:hi]
    return np.array([r.cx, seg.max() if seg.size and seg.max() < h else r.top], np.float32)


def _hem_row(r: _Rows) -> int:
    """The bottom of the torso run, ignoring a few ragged rows."""
    run_rows = np.flatnonzero(r.valid & ((r.right - r.left) > 0.5 * r.torso_w))
    return int(run_rows[int(0.98 * (len(run_rows) - 1))]) if run_rows.size else r.bottom


def _waist_row(r: _Rows, armpit_y: int, hem_y: int) -> int:
    """The narrowest torso run between the armpits and the hem (dresses show it best)."""
    span = np.arange(armpit_y + int(0.1 * (hem_y - armpit_y)), max(armpit_y + 1, hem_y - int(0.2 * (hem_y - armpit_y))))
    span = span[r.valid[span] & _body_rows(r)[span]] if span.size else span
    if span.size:
        widths = r.right[span] - r.left[span]
        return int(span[np.argmin(widths)])
    # No run through the centre column between armpits and hem (a dress with a keyhole or a
    # split there): the measured row nearest the middle, never a row without a run (its ends
    # are NaN, and NaN landmarks broke the spline).
    measured = np.flatnonzero(r.valid)
    mid = (armpit_y + hem_y) // 2
    return int(measured[np.argmin(np.abs(measured - mid))]) if measured.size else mid


def make_sleeve(part: np.ndarray, shoulder: np.ndarray, armpit: np.ndarray, torso_w: float) -> Sleeve | None:
    """A sleeve from its pixels: the axis runs from its root (halfway between the shoulder point
    and the armpit) through the pixels' centroid; the cuff is the middle of the slab of pixels
    farthest along that axis (not the farthest corner)."""
    py, px = np.nonzero(part)
    pts = np.stack([px, py], axis=1).astype(np.float32)
    root = (np.asarray(shoulder, np.float32) + np.asarray(armpit, np.float32)) / 2
    direction = pts.mean(axis=0) - root
    direction /= max(float(np.linalg.norm(direction)), 1e-6)
    proj = (pts - root) @ direction
    far = pts[proj >= 0.9 * proj.max()]
    cuff = far.mean(axis=0)
    axis = cuff - root
    length = float(np.linalg.norm(axis))
    if length < 0.1 * torso_w:
        return None
    perp = np.array([-axis[1], axis[0]]) / length
    across = (far - cuff) @ perp
    half_width = float(max(np.percentile(across, 95) - np.percentile(across, 5), 2.0) / 2)
    # The root in the middle of the sleeve's first stretch: for a sleeve laid down along the torso the
    # arm hole's midpoint is on the sleeve's inner edge, and an axis from there put all the sleeve on
    # one side of it, so that on the arm its inner half stayed empty (a bare strip beside the torso).
    proj = (pts - root) @ (axis / length)
    first = pts[(proj >= 0) & (proj <= 0.2 * length)]
    root_half_width = 0.0
    if len(first) >= 10:
        off = (first - root) @ perp
        lo, hi = np.percentile(off, [5, 95])
        root = root + float((lo + hi) / 2) * perp
        root_half_width = float(max(hi - lo, 2.0) / 2)
    return Sleeve(shoulder=root, cuff=cuff, half_width=half_width, mask=part, root_half_width=root_half_width)


@dataclass
class _Side:
    """One side of a top as the image shows it (``sign`` -1: the image's left, the wearer's right)."""

    sign: int
    wearer: str  # "r" or "l": the wearer's side it is
    edge: np.ndarray  # the centre run's end on this side, per row
    ref: float  # the torso's side here
    armpit: np.ndarray
    sleeved: bool  # a sleeve joins the torso at the armpit
    shoulder: np.ndarray


def _side(r: _Rows, sign: int) -> _Side:
    edge, ref = (r.left, r.ref_l) if sign < 0 else (r.right, r.ref_r)
    y, sleeved = _armpit_row(r, edge, float(sign))
    armpit = np.array([edge[y] if r.valid[y] else ref, y], np.float32)
    shoulder = _shoulder_point(r, armpit, sleeved, sign)
    return _Side(sign, "r" if sign < 0 else "l", edge, ref, armpit, sleeved, shoulder)


def _sleeves_beside_torso(r: _Rows, sides: tuple[_Side, _Side]) -> tuple[dict[str, Sleeve], np.ndarray]:
    """Sleeves where a sleeve joins the torso: what lies outside the torso, i.e. outside the centre run
    below the armpit and outside the vertical through the armpit above it; and the torso without them."""
    xx = np.arange(r.mask.shape[1])[None, :]
    sleeves: dict[str, Sleeve] = {}
    torso = r.mask.copy()
    for s in sides:
        run_end = np.nan_to_num(s.edge, nan=s.ref)
        bound = np.where(r.rows >= s.armpit[1], run_end, s.armpit[0])[:, None]
        outside = xx < bound if s.sign < 0 else xx > bound
        part = largest_component(r.mask & outside)
        if not s.sleeved or part.sum() < 0.01 * r.mask.sum():
            continue
        # The run's jump was the top of the slit under a sleeve laid along the side: the armpit is higher.
        arm_y = _hanging_armpit(part, float(s.armpit[0]), s.sign, 0.08 * r.torso_w, r)
        if arm_y < s.armpit[1]:
            s.armpit = np.array([s.armpit[0], arm_y], np.float32)
        sleeve = make_sleeve(part, s.shoulder, s.armpit, r.torso_w)
        if sleeve is not None:
            sleeves[s.wearer] = sleeve
            torso &= ~part
    return sleeves, torso


def _hanging_armpit(part: np.ndarray, edge: float, sign: int, margin: float, r: _Rows) -> int:
    """The armpit's row for a sleeve laid down along the torso's side (a long sleeve's usual flat lay).

    Such a sleeve lies over the torso's side from the armpit down and parts from it only lower, at
    the top of the slit between them, so its lowest pixel beside the torso is near the cuff, not
    at the armpit. Where the slit's top (the highest end of the sleeve's columns just outside the
    torso) lies well below the armpit of a usual cut (about 0.4 torso widths below the shoulders),
    the armpit is put there; a sleeve that stands out from the side keeps its own (the slit's top
    is then its underarm). Returns the garment's bottom row when nothing hangs.
    """
    w = part.shape[1]
    lo, hi = (edge - 3 * margin, edge - 0.5 * margin) if sign < 0 else (edge + 0.5 * margin, edge + 3 * margin)
    cols = np.arange(int(np.clip(np.floor(lo), 0, w - 1)), int(np.clip(np.ceil(hi), 0, w - 1)) + 1)
    cols = cols[part[:, cols].any(axis=0)] if cols.size else cols
    if cols.size == 0:
        return r.bottom
    ends = part.shape[0] - 1 - np.argmax(part[::-1, cols], axis=0)
    slit_top = int(ends.min())
    usual = int(r.top_y[int(np.clip(edge, 0, w - 1))] + 0.4 * r.torso_w)
    ys, xs = np.nonzero(part)
    hangs = int(ys.max()) > slit_top + 0.1 * r.gh  # the sleeve runs on down past the slit
    # A long sleeve lying against the side all the way to its cuff (no slit under it at all) is far
    # taller than wide; a dolman sleeve standing out from a low underarm is not.
    upright = ys.max() - ys.min() > 2.5 * (xs.max() - xs.min() + 1)
    return usual if (hangs or upright) and slit_top > usual + 0.1 * r.gh else r.bottom


def _sleeves_past_torso(
    r: _Rows, hem_y: int, sides: tuple[_Side, _Side], sleeves: dict[str, Sleeve], torso: np.ndarray
) -> None:
    """Sleeves the armpit walk missed (a print or stripes breaking the edges), added to ``sleeves``.

    A silhouette much wider than its torso has sleeves: whatever lies well outside the torso's
    vertical band above the hem, after an opening that cuts thin bridges. Their armpit and
    shoulder replace the side's.
    """
    mask, w = r.mask, r.mask.shape[1]
    xx = np.arange(w)[None, :]
    k = max(3, int(0.04 * r.torso_w) | 1)
    opened = cv2.morphologyEx(
        mask.astype(np.uint8), cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    ).astype(bool)
    margin = 0.08 * r.torso_w
    for s in sides:
        if s.wearer in sleeves:
            continue
        outside = xx < s.ref - margin if s.sign < 0 else xx > s.ref + margin
        part = largest_component(opened & outside & (r.rows < hem_y)[:, None])
        if part.sum() < 0.03 * mask.sum():
            continue
        py, px = np.nonzero(part)
        edge = s.ref
        if (edge - px.min() if s.sign < 0 else px.max() - edge) < 0.2 * r.torso_w:
            continue
        # The armpit: the part's lowest pixel next to the torso's side; the shoulder: the top
        # contour straight above it. The sleeve grows back to the band it was cut from.
        near_edge = np.abs(px - edge) < 3 * margin
        arm_y = int(py[near_edge].max()) if near_edge.any() else int(py.max())
        arm_y = min(arm_y, _hanging_armpit(part, edge, s.sign, margin, r))
        armpit = np.array([edge, arm_y], np.float32)
        shoulder = np.array([edge, r.top_y[int(np.clip(edge, 0, w - 1))]], np.float32)
        grown = cv2.dilate(part.astype(np.uint8), np.ones((k, k), np.uint8)).astype(bool)
        beyond = (xx < edge) if s.sign < 0 else (xx > edge)
        part = largest_component(mask & grown & beyond & (r.rows <= arm_y)[:, None] | part)
        sleeve = make_sleeve(part, shoulder, armpit, r.torso_w)
        if sleeve is not None:
            sleeves[s.wearer] = sleeve
            torso &= ~part
            s.armpit, s.shoulder = armpit, shoulder


# A side without a sleeve found hides one in the silhouette when, below its shoulder point, the side
# never turns in (a sleeveless cut's arm hole turns in right under the strap or shoulder) and runs out
# past the shoulder point by this share of the shoulder width within half a shoulder width's drop
# (a sleeve hanging from the shoulder and flaring, laid against the torso without a slit between).
HIDDEN_SLEEVE_OUT = 0.06
# (Arm hole: the side turning in by more than this share of the shoulder width.)
HIDDEN_SLEEVE_NOTCH = 0.02
# ...and only where fabric covers the shoulder: a seam from the neck corner to the shoulder point of
# at least this share of the shoulder width (a strap's top is next to its neck corner).
HIDDEN_SLEEVE_SEAM = 0.18
# Where a hidden sleeve's armpit is put, below its shoulder point in shoulder widths (a usual cut's).
HIDDEN_SLEEVE_ARMPIT = 0.4


def _hidden_sleeves(
    r: _Rows,
    sides: tuple[_Side, _Side],
    necks: tuple[np.ndarray, np.ndarray],
    sleeves: dict[str, Sleeve],
    torso: np.ndarray,
) -> list[_Side]:
    """Sleeves that lie against the torso all along (flared or ruffled sleeves laid flat, hanging from the
    shoulders with no background between them and the torso), added to ``sleeves``; the sides given one.

    Such a top has no armpit jump and no sleeve standing out from its lower torso, so it looked
    sleeveless, with its shoulder points (the top of the sleeves) far apart and its torso as wide as
    the flared cuffs: placed as a strap top, inside the shoulder joints, it came out shrunk to a crop
    top. Its sleeve is what lies beyond the vertical through the shoulder point; the torso keeps what
    lies inside it.
    """
    mask, w = r.mask, r.mask.shape[1]
    sw = float(abs(sides[1].shoulder[0] - sides[0].shoulder[0]))
    if sw < 4:
        return []
    xx = np.arange(w)[None, :]
    found: list[_Side] = []
    for s, neck in zip(sides, necks, strict=True):
        if s.wearer in sleeves or abs(float(s.shoulder[0] - neck[0])) < HIDDEN_SLEEVE_SEAM * sw:
            continue
        y0, y1 = int(s.shoulder[1]), min(r.bottom, int(s.shoulder[1] + 0.5 * sw))
        band = mask[y0:y1]
        rows = band.any(axis=1)
        if rows.sum() < 3:
            continue
        band = band[rows]
        ends = w - 1 - np.argmax(band[:, ::-1], axis=1) if s.sign > 0 else np.argmax(band, axis=1)
        out = (ends - s.shoulder[0]) * s.sign / sw
        if out.min() < -HIDDEN_SLEEVE_NOTCH or out.max() < HIDDEN_SLEEVE_OUT:
            continue
        beyond = xx < s.shoulder[0] if s.sign < 0 else xx > s.shoulder[0]
        part = largest_component(mask & beyond & (r.rows >= s.shoulder[1])[:, None])
        if part.sum() < 0.01 * mask.sum():
            continue
        armpit = np.array([s.shoulder[0], s.shoulder[1] + HIDDEN_SLEEVE_ARMPIT * sw], np.float32)
        sleeve = make_sleeve(part, s.shoulder, armpit, sw)
        if sleeve is None:
            continue
        sleeves[s.wearer] = sleeve
        torso &= ~part
        s.armpit, s.sleeved = armpit, True
        found.append(s)
    return found


def top_outline(mask: np.ndarray) -> Outline:
    """Landmarks of a top or a dress: neckline, shoulders, armpits, sleeve ends, hem, waist."""
    r = _measure_rows(mask)
    img_l, img_r = sides = (_side(r, -1), _side(r, +1))
    neck_img_l = _neck_corner(r, img_l.shoulder[0], -1)
    neck_img_r = _neck_corner(r, img_r.shoulder[0], +1)
    neck_c = _neck_centre(r, neck_img_l, neck_img_r)
    hem_y = _hem_row(r)
    hem_c = np.array([r.cx, np.flatnonzero(mask[:, r.cx]).max()], np.float32)
    wy = _waist_row(r, int(max(img_l.armpit[1], img_r.armpit[1])), hem_y)
    sleeves, torso = _sleeves_beside_torso(r, sides)
    _sleeves_past_torso(r, hem_y, sides, sleeves, torso)
    hidden = _hidden_sleeves(r, sides, (neck_img_l, neck_img_r), sleeves, torso)
    if hidden:
        wy = _waist_row(r, int(max(img_l.armpit[1], img_r.armpit[1])), hem_y)
    # The waist and hem run to the torso's sides, not to a hidden sleeve's flared edge beside them.
    waist_l, waist_r, hem_l, hem_r = r.left[wy], r.right[wy], r.left[hem_y], r.right[hem_y]
    for h in hidden:
        edge = float(h.shoulder[0])
        if h.sign < 0:
            waist_l, hem_l = max(waist_l, edge), max(hem_l, edge)
        else:
            waist_r, hem_r = min(waist_r, edge), min(hem_r, edge)
    lm = {
        "neck_center": neck_c,
        "r_neck": neck_img_l,
        "l_neck": neck_img_r,
        "r_shoulder": img_l.shoulder,
        "l_shoulder": img_r.shoulder,
        "r_armpit": img_l.armpit,
        "l_armpit": img_r.armpit,
        "r_waist": np.array([waist_l, wy], np.float32),
        "l_waist": np.array([waist_r, wy], np.float32),
        "r_hem": np.array([hem_l, hem_y], np.float32),
        "l_hem": np.array([hem_r, hem_y], np.float32),
        "hem_center": hem_c,
    }
    for side_name, s in sleeves.items():
        lm[f"{side_name}_cuff"] = s.cuff
    return Outline(landmarks=lm, sleeves=sleeves, torso=torso)


# --------------------------------------------------------------------------- targets and pieces

# The lowest a top's hem lands, below the shoulder joints in torso lengths (shoulder to hip joint):
# a tunic's, at the top of the thighs.
TOP_MAX_HEM = 1.2
# How far a sleeved top's neck corners rise above its shoulder points, in shoulder widths, before the
# shoulder points are taken for an off-shoulder neckline's corners: a tee's slope or a raised collar
# rises under 0.3, a cold-shoulder top's straps about half its width.
OFF_SHOULDER_DROP = 0.4
# A dress's width across the armpits over the body's chest width there (a little ease).
DRESS_CHEST_EASE = 1.06
# A sleeve longer than this share of the arm (its root to the wrist, through the elbow) is a long sleeve.
LONG_SLEEVE = 0.62


def top_targets(garment: GarmentAnalysis, body: Body) -> tuple[dict[str, np.ndarray], np.ndarray, float]:
    """Body positions for the garment's torso landmarks, the upright similarity (2x3) that
    places the garment from its shoulders and neckline, and the garment -> body scale for
    lengths and widths below the shoulders.

    The garment keeps its own proportions: the hem and waist sit as far below the shoulder
    seams, relative to the shoulder width, as they do on the product photo (a crop top ends
    high, a tunic low), and the trunk widths are the garment's widths at that scale, symmetric
    about the body axis, widened only as far as the body needs (with a little ease).
    """
    lm = garment.landmarks
    kp = body.kp
    u, d = body_axis(body)
    sw = body.shoulder_width
    mid_sh = (kp["l_shoulder"] + kp["r_shoulder"]) / 2
    mid_hip = (kp["l_hip"] + kp["r_hip"]) / 2
    torso_len = max(float(np.dot(mid_hip - mid_sh, d)), 0.8 * sw)

    sleeved = bool(garment.sleeves)
    out_sh = 0.08 * sw if sleeved else -0.12 * sw  # straps sit inside the shoulder joints
    t: dict[str, np.ndarray] = {}
    # BlazePose's shoulder points are joint centres; the shoulder's surface (where a seam sits)
    # is above and outside them, the neck's base well above the line between them.
    t["l_shoulder"] = kp["l_shoulder"] + out_sh * u - 0.12 * sw * d
    t["r_shoulder"] = kp["r_shoulder"] - out_sh * u - 0.12 * sw * d
    neck_base = mid_sh - 0.2 * sw * d
    g_l_sh, g_r_sh = point(lm, "l_shoulder"), point(lm, "r_shoulder")
    g_sw = max(float(np.linalg.norm(g_l_sh - g_r_sh)), 2.0)
    # A cold- or off-shoulder top with straps: the straps (its neck corners) rise far above the
    # corners of its neckline, which lie on the upper arms a little below the shoulder joints, not
    # on the shoulders' seams (a collar or a tee's slope rises far less). Placed on the shoulders,
    # its whole body was squeezed up to the chest.
    g_drop = float((g_l_sh[1] + g_r_sh[1]) / 2 - (point(lm, "l_neck")[1] + point(lm, "r_neck")[1]) / 2)
    off_shoulder = sleeved and g_drop > OFF_SHOULDER_DROP * g_sw
    if off_shoulder:
        for side, sign in (("l", 1.0), ("r", -1.0)):
            joint = kp[f"{side}_shoulder"]
            arm_hw = _arm_half_width(body, (joint + kp[f"{side}_elbow"]) / 2, 0.12 * sw)
            t[f"{side}_shoulder"] = joint + sign * arm_hw * u + 0.1 * sw * d
    g_neck_half = np.linalg.norm(point(lm, "l_neck") - point(lm, "r_neck")) / 2
    # The neckline keeps its width relative to the shoulders (a boat neck stays wide), but
    # never closes in on the neck.
    neck_half = max(g_neck_half / (g_sw / 2) * (sw / 2 + out_sh), 0.17 * sw)
    # The neckline rests on the shoulders: it follows their line (a raised shoulder lifts its
    # side), or the old garment's strap showed above a level neckline there.
    t["l_neck"] = neck_base + neck_half * body.u - 0.04 * sw * d
    t["r_neck"] = neck_base - neck_half * body.u - 0.04 * sw * d
    # Upright along the body's axis: the product photo is upright, and letting noisy landmarks
    # rotate it tilted whole garments.
    names = ["l_shoulder", "r_shoulder", "l_neck", "r_neck"]
    m = upright_fit(np.array([point(lm, n) for n in names]), np.array([t[n] for n in names]), d)
    # Garment px -> body px for lengths and widths below the shoulders: a sleeved garment's
    # shoulder width is the body's shoulder width (joint to joint; the flat-lay seams also span
    # the shoulders' slope and, on a boxy cut, drop past them, so scaling by the seam targets made
    # every top too long and too wide). Straps keep their own spacing.
    # (An off-shoulder neckline spans the upper arms: its own targets' spacing.)
    k = (sw if sleeved and not off_shoulder else float(np.linalg.norm(t["l_shoulder"] - t["r_shoulder"]))) / g_sw
    sh_line = (t["l_shoulder"] + t["r_shoulder"]) / 2
    sh_line = mid_sh + float(np.dot(sh_line - mid_sh, d)) * d  # on the body axis
    g_sh_mid = (g_l_sh + g_r_sh) / 2
    if garment.category == Category.TOPS:
        # A top ends above the crotch (else it is a dress): its hem lies at most this far below the
        # shoulder joints, in torso lengths (hip joints at 1). A hem that would land lower says the
        # garment's shoulders were measured too close together (a dolman or dropped sleeve has no
        # seam to find, a print's edge can split the cut-out), which makes every length and width
        # too large: the scale comes down so the hem lands there, and the sleeves shrink with it.
        g_hem_depth = float((point(lm, "l_hem")[1] + point(lm, "r_hem")[1]) / 2 - g_sh_mid[1])
        # (Hips found at a dress's waist seam make a torso shorter than any body's, shoulder joint to
        # hip joint being about 1.3 to 1.6 shoulder widths: then the cap would crop the top.)
        room = TOP_MAX_HEM * max(torso_len, 1.3 * sw) - float(np.dot(sh_line - mid_sh, d))
        if g_hem_depth > 0 and k * g_hem_depth > room:
            k = room / g_hem_depth

    if garment.category == Category.ONE_PIECES:
        # A dress's scale comes from its chest as well: a sleeveless shift's shoulders run almost
        # to its armholes' edges, so taking them for straps (set inside the shoulder joints)
        # squeezed the whole dress up to the chest; and a puffed or gathered shoulder spans less
        # than the body's. Across the armpits the dress fits around the chest with a little ease,
        # so that width gives the scale whenever it is the larger; its length follows from it.
        g_chest = abs(float(point(lm, "l_armpit")[0] - point(lm, "r_armpit")[0]))
        cr, cl = body.width_at(mid_sh + 0.25 * torso_len * d, 0.5 * sw)
        body_chest = 2.0 * float(np.clip((cr + cl) / 2, 0.45 * sw, 0.6 * sw))
        k_chest = DRESS_CHEST_EASE * body_chest / g_chest if g_chest > 0.5 * g_sw else 0.0
        if k_chest > k:
            # The placement grows with it about the shoulders' middle: the anchors around the
            # garment follow that placement, and left at the shoulders' scale they held the
            # dress's lower corners above its hem's targets and folded the skirt away.
            k = k_chest
            s_m = float(np.sqrt(abs(np.linalg.det(m[:, :2]))))
            pivot = apply_affine(m, g_sh_mid[None])[0]
            m = m.copy()
            m[:, :2] *= k / s_m
            m[:, 2] += pivot - apply_affine(m, g_sh_mid[None])[0]

    def half_width(g_half: float, centre: np.ndarray, fallback: float) -> float:
        """The garment's half width at this level, symmetric, covering the body with ease but no
        wider than the garment's own width (plus a little) where the body is narrower."""
        br, bl = body.width_at(centre, fallback)
        measured = min((br + bl) / 2, 0.75 * sw)  # a hand on the hip or an arm at the side inflates one side
        need = 1.05 * measured
        return max(g_half, min(need, 1.1 * g_half))

    # Armpits: the garment's cut, never inside the trunk (the chest is about as wide as the
    # shoulder joints are apart); a flat-lay armpit sits low, the body's about a quarter down.
    g_arm_half = abs(float(point(lm, "l_armpit")[0] - point(lm, "r_armpit")[0])) / 2 * k
    g_arm_depth = (float((point(lm, "l_armpit")[1] + point(lm, "r_armpit")[1]) / 2) - g_sh_mid[1]) * k
    depth = float(np.clip(float(np.dot(sh_line - mid_sh, d)) + g_arm_depth, 0.2 * torso_len, 0.3 * torso_len))
    armpit_c = mid_sh + depth * d
    ar, al = body.width_at(armpit_c, 0.5 * sw)
    chest = float(np.clip((ar + al) / 2, 0.45 * sw, 0.6 * sw))
    arm_half = max(g_arm_half, 1.06 * chest)
    t["l_armpit"] = armpit_c + arm_half * u
    t["r_armpit"] = armpit_c - arm_half * u

    t["neck_center"] = sh_line + (point(lm, "neck_center") - g_sh_mid) @ np.array([u, d]) * k
    # Waist and hem: as far down, relative to the shoulder seams' width, as on the garment.
    band = waistband_depth(body, mid_sh, d)
    for level in ("waist", "hem"):
        g_l, g_r = point(lm, f"l_{level}"), point(lm, f"r_{level}")
        g_depth = (float((g_l[1] + g_r[1]) / 2) - g_sh_mid[1]) * k
        if level == "hem" and band is not None:
            # A hem ending just short of the trousers' waistband left a thin stripe of made-up
            # skin: it reaches the waistband instead (a truly cropped top stays short).
            gap = band - (float(np.dot(sh_line - mid_sh, d)) + g_depth)
            if 0 < gap < 0.2 * sw:
                g_depth += gap + 0.02 * sw
        centre = sh_line + g_depth * d
        half = half_width(abs(float(g_l[0] - g_r[0])) / 2 * k, centre, 0.5 * sw)
        t[f"l_{level}"] = centre + half * u
        t[f"r_{level}"] = centre - half * u
    hem_mid = (t["l_hem"] + t["r_hem"]) / 2
    g_hem_mid = (point(lm, "l_hem") + point(lm, "r_hem")) / 2
    t["hem_center"] = hem_mid + float(point(lm, "hem_center")[1] - g_hem_mid[1]) * k * d
    return t, m, k


def fit_top(garment: GarmentAnalysis, body: Body) -> WarpResult:
    lm = garment.landmarks
    sw = body.shoulder_width
    t, m, k = top_targets(garment, body)
    scale = float(np.sqrt(abs(np.linalg.det(m[:, :2]))))

    names = [n for n in t if n in lm]
    src = np.array([point(lm, n) for n in names])
    dst = np.array([t[n] for n in names])
    pairs = {n: (s, d_) for n, s, d_ in zip(names, src, dst, strict=False)}
    # Anchors around the garment keep the spline calm away from the landmarks.
    gh, gw = garment.alpha.shape
    ring = np.array(
        [
            [x, y]
            for x in np.linspace(0, gw - 1, 4)
            for y in np.linspace(0, gh - 1, 4)
            if x in (0, gw - 1) or y in (0, gh - 1)
        ]
    )
    src_all = np.concatenate([src, ring])
    dst_all = np.concatenate([dst, apply_affine(m, ring)])

    h, w = body.shape
    pieces: list[WarpedPiece] = []
    torso_alpha = garment.alpha * (garment.torso_mask if garment.torso_mask is not None else 1)
    corners = apply_affine(m, np.array([[0, 0], [gw, 0], [0, gh], [gw, gh]]))
    box = clip_box(np.concatenate([corners, dst]), w, h, pad=0.05 * sw)
    piece = warp_piece("torso", garment.rgb, torso_alpha.astype(np.float32), dst_all, src_all, box, smoothing=1e-3)
    if piece is not None:
        pieces.append(piece)

    for side, sleeve in garment.sleeves.items():
        arm_piece = _warp_sleeve(garment, sleeve, side, body, t, k, pairs)
        if arm_piece is not None:
            pieces.append(arm_piece)
    return WarpResult(pieces=pieces, pairs=pairs, scale=scale)


def _arm_half_width(body: Body, pt: np.ndarray, fallback: float) -> float:
    h, w = body.shape
    x, y = int(np.clip(pt[0], 0, w - 1)), int(np.clip(pt[1], 0, h - 1))
    r = int(fallback * 3)
    sub = body.arms[max(0, y - r) : y + r + 1, max(0, x - r) : x + r + 1]
    if sub.sum() < 10:
        return fallback
    dist = cv2.distanceTransform(sub.astype(np.uint8), cv2.DIST_L2, 3)
    return float(np.clip(np.percentile(dist[sub], 90), 0.5 * fallback, 2 * fallback))


def _arm_across(body: Body, p: np.ndarray, perp: np.ndarray, arm_hw: float) -> tuple[float, float]:
    """Across the arm at ``p`` (along the unit vector ``perp``): the offset of the arm mask's middle
    from ``p`` and its half width there; (0, 0) where no arm lies within an arm's width of ``p``."""
    h, w = body.shape
    steps = np.arange(-3.0 * arm_hw, 3.0 * arm_hw + 1.0, 1.0)
    pts = p[None, :] + steps[:, None] * perp[None, :]
    xi, yi = np.round(pts[:, 0]).astype(int), np.round(pts[:, 1]).astype(int)
    ok = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
    inside = np.zeros(steps.size, bool)
    inside[ok] = body.arms[yi[ok], xi[ok]]
    near = np.flatnonzero(inside & (np.abs(steps) <= arm_hw))
    if near.size == 0:
        return 0.0, 0.0
    i = near[np.argmin(np.abs(steps[near]))]
    lo, hi = i, i
    while lo > 0 and inside[lo - 1]:
        lo -= 1
    while hi < steps.size - 1 and inside[hi + 1]:
        hi += 1
    return float((steps[lo] + steps[hi]) / 2), float((steps[hi] - steps[lo]) / 2)


# The most a sleeve is stretched across the arm over how much it is stretched along it. A sleeve
# measured thinner than that (a long sleeve laid against the torso, whose silhouette shows only its
# outer edge beside it) was blown up to the arm's width from a sliver and drawn as streaks.
MAX_SLEEVE_STRETCH = 2.0


def _sleeve_strip(
    sleeve: Sleeve,
    g_root_hw: float,
    g_perp: np.ndarray,
    g_centre: np.ndarray,
    b_hws: list[float],
    along_scale: float,
) -> tuple[np.ndarray, np.ndarray, float, float, bool]:
    """The strip of the garment read as the sleeve: its axis's ends (root, cuff), their half widths,
    and whether it was widened. ``b_hws``: the half widths on the arm at evenly spaced stations from
    root to cuff; ``along_scale``: body px per garment px along the sleeve.

    Where the sleeve is too thin for them (see ``MAX_SLEEVE_STRETCH``) the strip widens towards the
    garment's centre, keeping the sleeve's outer edge, which is the one its silhouette shows."""
    need = [b / (along_scale * MAX_SLEEVE_STRETCH) for b in b_hws]
    half = len(need) // 2
    root_hw = max(g_root_hw, *need[: half + 1])
    cuff_hw = max(sleeve.half_width, *need[half:])
    inward = g_perp if float(np.dot(g_centre - sleeve.shoulder, g_perp)) > 0 else -g_perp
    root = sleeve.shoulder + (root_hw - g_root_hw) * inward
    cuff = sleeve.cuff + (cuff_hw - sleeve.half_width) * inward
    widened = root_hw > g_root_hw or cuff_hw > sleeve.half_width
    return root, cuff, root_hw, cuff_hw, widened


# Along the sleeve, each edge's control points advance by at least this share of the axis's step
# between stations.
MIN_EDGE_STEP = 0.3


def _untwisted(stations: list[tuple[np.ndarray, np.ndarray, float]]) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """The stations (centre, unit perpendicular, half width) with each perpendicular turned back towards
    the previous one as far as needed for both edges to advance down the arm.

    On the inside of a sharply bent elbow an edge's control points, set square to the arm, stepped back
    past the previous station's: the spline then read the fabric in reverse there and swirled it."""
    out = [stations[0]]
    for p, perp, b_hw in stations[1:]:
        q, q_perp, q_hw = out[-1]
        step = p - q
        length = float(np.linalg.norm(step))
        turned = perp
        for t in np.linspace(1.0, 0.0, 11):
            turned = t * perp + (1 - t) * q_perp
            turned = turned / max(float(np.linalg.norm(turned)), 1e-6)
            advances = [float(np.dot(step + k * (b_hw * turned - q_hw * q_perp), step)) for k in (-1.0, 1.0)]
            if min(advances) >= MIN_EDGE_STEP * length**2:
                break
        out.append((p, turned, b_hw))
    return out


def _warp_sleeve(
    garment: GarmentAnalysis, sleeve: Sleeve, side: str, body: Body, t: dict[str, np.ndarray], scale: float, pairs: dict
) -> WarpedPiece | None:
    """Bend one sleeve along the arm.

    A lowered arm carries its sleeve with it: the sleeve's axis is laid along the arm
    (shoulder joint -> elbow -> wrist, bending at the elbow for long sleeves), its underarm
    tucking over the torso's side; its opening is never tighter than the arm.
    """
    kp = body.kp
    sw = body.shoulder_width
    g_sh = point(garment.landmarks, f"{side}_shoulder")
    g_axis = sleeve.cuff - sleeve.shoulder
    g_dir = g_axis / max(np.linalg.norm(g_axis), 1e-6)
    g_perp = np.array([-g_dir[1], g_dir[0]])
    arm_hw = _arm_half_width(body, (kp[f"{side}_shoulder"] + kp[f"{side}_elbow"]) / 2, 0.12 * sw)
    g_root_hw = sleeve.root_half_width or max(float(np.linalg.norm(sleeve.shoulder - g_sh)), sleeve.half_width)
    # As wide as the arm plus ease, never the flat-lay width: a flat sleeve's opening is far
    # wider than it looks worn, and copying it made boxy flaps.
    t_root_hw = float(np.clip(0.6 * g_root_hw * scale, 1.2 * arm_hw, 1.5 * arm_hw))
    # The sleeve hangs from the torso's shoulder seam along the upper arm: its root is on the
    # arm's axis at the seam's height (the joint raised to the shoulder's surface), so its top
    # edge meets the torso's shoulder instead of standing off it as a flap.
    _, d = body_axis(body)
    joint = kp[f"{side}_shoulder"]
    root = joint + float(np.dot(t[f"{side}_shoulder"] - joint, d)) * d
    # A little below: the shoulder rounds off outward, and a root square at the seam's height
    # stood above it as a corner.
    to_elbow = kp[f"{side}_elbow"] - root
    root = root + 0.4 * t_root_hw * to_elbow / max(float(np.linalg.norm(to_elbow)), 1e-6)
    chain = [root, kp[f"{side}_elbow"], kp[f"{side}_wrist"]]
    length = sleeve.length * scale
    # A sleeve reaching well past the elbow is a long one, cut to end at the wrist: measured at the
    # garment's scale it fell short of it (the flat lay's seam-to-cuff length over its seam width,
    # times the body's joint-to-joint width, left long sleeves at two thirds to nine tenths of the
    # arm), which drew three-quarter sleeves. No sleeve runs on past the wrist.
    reach = sum(float(np.linalg.norm(b - a)) for a, b in zip(chain[:-1], chain[1:], strict=True))
    if length > LONG_SLEEVE * reach:
        length = reach
    cuff_arm_hw = _arm_half_width(body, along(chain, length)[0], arm_hw)
    t_cuff_hw = float(np.clip(sleeve.half_width * scale, 1.1 * cuff_arm_hw, 1.4 * cuff_arm_hw))
    fs = (0.0, 0.25, 0.5, 0.75, 1.0)
    stations: list[tuple[np.ndarray, np.ndarray, float]] = []  # on the arm: centre, perpendicular, half width
    for f in fs:
        b_hw = (1 - f) * t_root_hw + f * t_cuff_hw
        p = along(chain, f * length)[0]
        # The arm's direction over the sleeve's width about the station: at a bent elbow the bend's
        # bisector. The direction of the segment alone turned a station at the elbow by the whole bend,
        # its control points crossing its neighbours' and the sleeve swirled.
        dvec = along(chain, f * length + b_hw)[0] - along(chain, f * length - b_hw)[0]
        dvec = dvec / max(float(np.linalg.norm(dvec)), 1e-6)
        # Both perpendiculars are the axis turned by +90 degrees, so pairing them is a rotation
        # (the sleeve's upper edge becomes the arm's outer edge), never a mirror.
        perp = np.array([-dvec[1], dvec[0]])
        if f > 0:
            # Down the arm the sleeve follows the arm as the photo shows it, not the line between the
            # joints (which runs inside the upper arm): centred on it and never narrower, or the arm's
            # inner side showed as a bare strip between the sleeve and the torso.
            shift, half = _arm_across(body, p, perp, arm_hw)
            p = p + shift * perp
            b_hw = max(b_hw, min(1.1 * half, 2.0 * arm_hw))
        stations.append((p, perp, b_hw))
    stations = _untwisted(stations)
    g_centre = (point(garment.landmarks, "l_shoulder") + point(garment.landmarks, "r_shoulder")) / 2
    g_root, g_cuff, g_root_hw, g_cuff_hw, held_extra = _sleeve_strip(
        sleeve, g_root_hw, g_perp, g_centre, [b for _, _, b in stations], length / max(sleeve.length, 1e-6)
    )
    g_axis = g_cuff - g_root
    src, dst = [], []
    for f, (p, perp, b_hw) in zip(fs, stations, strict=True):
        c = g_root + f * g_axis
        g_hw = (1 - f) * g_root_hw + f * g_cuff_hw
        for k in (-1.0, 0.0, 1.0):
            src.append(c + k * g_hw * g_perp)
            dst.append(p + k * b_hw * perp)
    cuff_t = stations[-1][0]
    src_a, dst_a = np.array(src), np.array(dst)
    pairs[f"{side}_sleeve_root"] = (sleeve.shoulder, root)
    pairs[f"{side}_sleeve_cuff"] = (sleeve.cuff, cuff_t)
    h, w = body.shape
    box = clip_box(dst_a, w, h, pad=max(t_cuff_hw, t_root_hw))
    # Only the part of the sleeve the control points hold: the corners at its seam (shoulder
    # tip, armpit) would swing out past the arm; the torso piece covers the shoulder there.
    gh, gw = garment.alpha.shape
    yy, xx = np.mgrid[0:gh, 0:gw].astype(np.float32)
    rel_x, rel_y = xx - g_root[0], yy - g_root[1]
    position = (rel_x * g_dir[0] + rel_y * g_dir[1]) / max(sleeve.length, 1e-6)
    across = np.abs(rel_x * g_perp[0] + rel_y * g_perp[1])
    reach = (1 - np.clip(position, 0, 1)) * g_root_hw + np.clip(position, 0, 1) * g_cuff_hw
    held = (position >= -0.05) & (position <= 1.15) & (across <= 1.1 * reach)
    # A strip widened over the torso takes the garment's pixels there: it is the sleeve lying on it.
    part = sleeve.mask | (garment.mask & held) if held_extra else sleeve.mask
    alpha = (garment.alpha * (part & held)).astype(np.float32)
    return warp_piece(f"{side}_sleeve", garment.rgb, alpha, dst_a, src_a, box, smoothing=1e-3)


# --------------------------------------------------------------------------- the category


class Tops:
    """Tops (see the module's docstring)."""

    category: Category = Category.TOPS
    body_piece: str = "torso"
    replaces: tuple[str, ...] = ("upper_garment", "sleeves")
    # A one-piece replaces the old bottoms too (see ``compose.old_bottoms``); a top leaves them.
    replaces_bottoms: bool = False

    def outline(self, silhouette: np.ndarray) -> Outline:
        return top_outline(silhouette)

    def fit(self, garment: GarmentAnalysis, body: Body) -> WarpResult:
        return fit_top(garment, body)

    def in_front(self, regions: dict[str, np.ndarray], body: Body, feather: float) -> Layering:
        sw = body.shoulder_width
        hands = union(regions, "hands")
        arms = union(regions, "arms", "arm_skin", "sleeves")
        depth = depth_below_shoulders(body)
        # The head and neck stay in front down to the neck's base; below it the new garment
        # covers whatever the old neckline showed (a V-neck's chest, a collar).
        head = union(regions, "face_hair_neck") & (depth < -0.16 * sw)
        # Arms hide the torso piece only below the armpits: above them, at the shoulder cap,
        # the garment covers the arm.
        below = depth > 0.22 * torso_length(body)
        # Only the arm itself (its anatomical width), not a loose old sleeve's fringe: the fringe
        # is old garment, which the new torso covers where it reaches.
        return Layering(
            over_body_piece=feathered(head | hands | (arms & below & (arm_reach(body) < 1.1)), feather),
            over_other_pieces=feathered(head | hands, feather),
        )

    def join_pieces(
        self, rgb: np.ndarray, pieces: dict[str, np.ndarray], shoulder_width: float
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        return fill_small_gaps(rgb, pieces, shoulder_width)

    def leftovers(
        self,
        person_rgb: np.ndarray,
        old: np.ndarray,
        regions: dict[str, np.ndarray],
        alpha: np.ndarray,
        body: Body,
    ) -> np.ndarray:
        return old_straps(person_rgb, old, union(regions, "face_hair_neck"), alpha, body)

    def uncovered(
        self,
        person_rgb: np.ndarray,
        revealed: np.ndarray,
        pieces: dict[str, np.ndarray],
        regions: dict[str, np.ndarray],
        body: Body,
    ) -> tuple[np.ndarray, np.ndarray]:
        if not self.replaces_bottoms:
            # An old dress continuing below the new top's hem stays as it is (not skin, not inpainted).
            revealed = revealed & ~dress_below_hem(person_rgb, revealed, pieces, regions, body)
            return revealed, skin_zone(revealed, pieces, regions, body)
        # A one-piece: old trousers or a longer old skirt left beside or below it become the legs
        # within their anatomical width, and the surroundings outside it.
        legs = legs_under(person_rgb, revealed, regions, leg_reach(body), max(3, int(0.15 * body.shoulder_width)))
        return revealed, skin_zone(revealed, pieces, regions, body) | legs
