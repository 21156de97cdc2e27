"""Warp: fit the cut-out garment onto the person's body.

The garment's torso is bent by a thin-plate spline (TPS) that takes its landmarks
(shoulders, neckline, armpits, waist, hem) to targets placed from the person's
pose and silhouette; each sleeve is a separate piece bent along its upper arm
(and forearm, for long sleeves) by its own TPS. The TPS is solved in numpy,
evaluated backwards (body pixel -> garment pixel) on a coarse grid and upsampled,
then applied with ``cv2.remap``: a few milliseconds per piece.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from .garment import GarmentAnalysis, Sleeve
from .pose import Landmark

GRID_STEP = 8  # px between exact TPS evaluations; the rest is bilinear in between


class ThinPlateSpline:
    """2-D thin-plate spline through control points: ``tps(src) == dst`` (up to ``smoothing``)."""

    def __init__(self, src: np.ndarray, dst: np.ndarray, smoothing: float = 0.0):
        src = np.asarray(src, np.float64)
        dst = np.asarray(dst, np.float64)
        # Work in normalised coordinates: keeps the system well conditioned at any image size.
        self.centre = src.mean(axis=0)
        self.scale = max(float(np.abs(src - self.centre).max()), 1e-6)
        p = (src - self.centre) / self.scale
        n = len(p)
        k = self._kernel(p, p) + smoothing * np.eye(n)
        a = np.zeros((n + 3, n + 3))
        a[:n, :n] = k
        a[:n, n] = a[n, :n] = 1
        a[:n, n + 1 :] = p
        a[n + 1 :, :n] = p.T
        b = np.zeros((n + 3, 2))
        b[:n] = dst
        self.points = p
        self.coef = np.linalg.lstsq(a, b, rcond=None)[0]

    @staticmethod
    def _kernel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        r2 = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(r2 > 0, r2 * np.log(r2), 0.0)

    def __call__(self, pts: np.ndarray) -> np.ndarray:
        pts = np.asarray(pts, np.float64)
        shape = pts.shape
        p = (pts.reshape(-1, 2) - self.centre) / self.scale
        n = len(self.points)
        out = self._kernel(p, self.points) @ self.coef[:n] + self.coef[n] + p @ self.coef[n + 1 :]
        return out.reshape(shape)


def similarity_fit(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares rotation + uniform scale + translation (2x3) taking src to dst (Umeyama)."""
    src = np.asarray(src, np.float64)
    dst = np.asarray(dst, np.float64)
    ms, md = src.mean(0), dst.mean(0)
    s, d = src - ms, dst - md
    cov = d.T @ s / len(src)
    u, sig, vt = np.linalg.svd(cov)
    e = np.diag([1.0, np.sign(np.linalg.det(u @ vt))])
    rot = u @ e @ vt
    scale = float(np.trace(np.diag(sig) @ e) / max((s**2).sum() / len(src), 1e-9))
    m = np.zeros((2, 3))
    m[:, :2] = scale * rot
    m[:, 2] = md - m[:, :2] @ ms
    return m


def upright_fit(src: np.ndarray, dst: np.ndarray, down: np.ndarray) -> np.ndarray:
    """Least-squares uniform scale + translation (2x3) taking src to dst, with the rotation fixed
    so that the garment's vertical (0, 1) becomes ``down``."""
    src = np.asarray(src, np.float64)
    dst = np.asarray(dst, np.float64)
    rot = np.array([[down[1], down[0]], [-down[0], down[1]]])  # (0, 1) -> down, (1, 0) -> (down_y, -down_x)
    ms, md = src.mean(0), dst.mean(0)
    rs = (src - ms) @ rot.T
    scale = float((rs * (dst - md)).sum() / max((rs**2).sum(), 1e-9))
    m = np.zeros((2, 3))
    m[:, :2] = max(scale, 1e-6) * rot
    m[:, 2] = md - m[:, :2] @ ms
    return m


def apply_affine(m: np.ndarray, pts: np.ndarray) -> np.ndarray:
    pts = np.asarray(pts, np.float64)
    return pts @ m[:, :2].T + m[:, 2]


@dataclass
class WarpedPiece:
    """One garment piece in the person's frame, inside ``box`` (x0, y0, x1, y1)."""

    name: str  # "torso", "l_sleeve", "r_sleeve", "bottoms"
    rgb: np.ndarray  # hxwx3 float32 0..255
    alpha: np.ndarray  # hxw float32 0..1
    box: tuple[int, int, int, int]
    map_x: np.ndarray  # hxw float32: garment x for each pixel of the box (for the debug grid)
    map_y: np.ndarray


@dataclass
class WarpResult:
    pieces: list[WarpedPiece]
    pairs: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)  # name -> (garment, body)
    scale: float = 1.0  # garment px -> body px

    def layers(self, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """Pieces pasted in order on a full canvas: (rgb float32, alpha, per-piece alpha)."""
        h, w = shape
        rgb = np.zeros((h, w, 3), np.float32)
        alpha = np.zeros((h, w), np.float32)
        per_piece = {}
        for piece in self.pieces:
            x0, y0, x1, y1 = piece.box
            a = piece.alpha
            sub_a = alpha[y0:y1, x0:x1]
            sub_rgb = rgb[y0:y1, x0:x1]
            sub_rgb[:] = piece.rgb * a[..., None] + sub_rgb * (1 - a[..., None])
            sub_a[:] = a + sub_a * (1 - a)
            full = np.zeros((h, w), np.float32)
            full[y0:y1, x0:x1] = a
            per_piece[piece.name] = full
        # Un-premultiply: rgb holds colour where alpha > 0.
        rgb = np.where(alpha[..., None] > 1e-4, rgb / np.maximum(alpha[..., None], 1e-4), 0)
        return rgb, alpha, per_piece


def warp_piece(
    name: str,
    rgb: np.ndarray,
    alpha: np.ndarray,
    body_pts: np.ndarray,
    garment_pts: np.ndarray,
    box: tuple[int, int, int, int],
    smoothing: float = 0.0,
) -> WarpedPiece | None:
    """Warp ``rgb``/``alpha`` so that garment_pts land on body_pts, rendered inside ``box``."""
    x0, y0, x1, y1 = box
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    tps = ThinPlateSpline(body_pts, garment_pts, smoothing=smoothing)  # backwards: body -> garment
    gx = np.arange(x0, x1 + GRID_STEP, GRID_STEP, dtype=np.float64)
    gy = np.arange(y0, y1 + GRID_STEP, GRID_STEP, dtype=np.float64)
    grid = np.stack(np.meshgrid(gx, gy), axis=-1)
    coarse = tps(grid).astype(np.float32)
    # Upsample the coarse map: the corner samples sit exactly on pixel centres x0, x0+STEP, ...
    full_w = (len(gx) - 1) * GRID_STEP + 1
    full_h = (len(gy) - 1) * GRID_STEP + 1
    maps = _resize_corner_aligned(coarse, full_w, full_h)[: y1 - y0, : x1 - x0]
    map_x = np.ascontiguousarray(maps[..., 0])
    map_y = np.ascontiguousarray(maps[..., 1])
    warped = cv2.remap(rgb, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    a = cv2.remap(alpha, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return WarpedPiece(name=name, rgb=warped.astype(np.float32), alpha=a, box=box, map_x=map_x, map_y=map_y)


def _resize_corner_aligned(coarse: np.ndarray, w: int, h: int) -> np.ndarray:
    """Bilinear upsampling where the first/last samples stay on the first/last output pixels."""
    ch, cw = coarse.shape[:2]
    xs = np.linspace(0, cw - 1, w, dtype=np.float32)
    ys = np.linspace(0, ch - 1, h, dtype=np.float32)
    mx, my = np.meshgrid(xs, ys)
    return cv2.remap(coarse, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


# --- body targets --------------------------------------------------------------------


@dataclass
class Body:
    """What the warp needs to know about the person, in image pixels."""

    shape: tuple[int, int]
    kp: dict[str, np.ndarray]  # l_/r_ shoulder, elbow, wrist, hip, knee, ankle
    torso: np.ndarray  # HxW bool: the person without arms, hands and head (for widths)
    arms: np.ndarray  # HxW bool: arms (skin or sleeve)
    lower: np.ndarray | None = None  # HxW bool: trousers, skirt (where a top's hem can rest)

    @property
    def u(self) -> np.ndarray:
        """Unit vector across the shoulders, from the wearer's right to left."""
        v = self.kp["l_shoulder"] - self.kp["r_shoulder"]
        n = np.linalg.norm(v)
        return v / n if n > 1e-6 else np.array([1.0, 0.0])

    @property
    def d(self) -> np.ndarray:
        """Unit vector down the body, perpendicular to ``u``."""
        u = self.u
        return np.array([-u[1], u[0]])

    @property
    def shoulder_width(self) -> float:
        return float(np.linalg.norm(self.kp["l_shoulder"] - self.kp["r_shoulder"]))

    def width_at(self, centre: np.ndarray, fallback: float) -> tuple[float, float]:
        """Distances left (toward r) and right (toward l) from ``centre`` to the torso's edges along ``u``."""
        u = self.u
        h, w = self.shape
        out = []
        for sign in (-1.0, 1.0):
            dist = 0.0
            steps = np.arange(0, 2.0 * fallback, 2.0)
            pts = centre[None, :] + sign * steps[:, None] * u[None, :]
            xi = np.clip(pts[:, 0].round().astype(int), 0, w - 1)
            yi = np.clip(pts[:, 1].round().astype(int), 0, h - 1)
            inside = self.torso[yi, xi]
            if inside[:3].any():
                outside = np.flatnonzero(~inside)
                dist = float(steps[outside[0]]) if outside.size else float(steps[-1])
            out.append(dist if dist > 0.25 * fallback else fallback)
        return out[0], out[1]


def body_from_person(person) -> Body:
    """Build the warp's view of a ``PersonAnalysis`` (keypoints plus masks)."""
    kp = {k: np.asarray(v, np.float64) for k, v in person.keypoints.items()}
    lm = np.asarray(person.pose.landmarks, np.float64)
    # The legs straight from the pose, in case the analysis does not name them.
    for name, landmark in (
        ("l_knee", Landmark.LEFT_KNEE),
        ("r_knee", Landmark.RIGHT_KNEE),
        ("l_ankle", Landmark.LEFT_ANKLE),
        ("r_ankle", Landmark.RIGHT_ANKLE),
    ):
        kp.setdefault(name, lm[landmark])
    regions = person.regions
    arms = np.zeros(person.mask.shape, bool)
    for key in ("arms", "hands"):
        if key in regions:
            arms |= regions[key]
    head = regions.get("face_hair_neck", np.zeros_like(arms))
    # The trunk the new garment must cover: the old garment plus bare torso skin; rows where
    # the analysis found neither fall back to the silhouette without arms and head.
    # Arms hanging against the sides are not trunk: counting them made every top too wide.
    torso = (regions.get("upper_garment", np.zeros_like(arms)) | regions.get("torso_skin", np.zeros_like(arms))) & ~arms
    bare = person.mask & ~arms & ~head
    empty_rows = ~torso.any(axis=1)
    torso[empty_rows] = bare[empty_rows]
    return Body(shape=person.mask.shape, kp=kp, torso=torso, arms=arms, lower=regions.get("lower_body"))


def waistband_depth(body: Body, mid_sh: np.ndarray, d: np.ndarray) -> float | None:
    """How far down the body axis (from mid-shoulders) the lower garment starts, or None."""
    if body.lower is None or not body.lower.any():
        return None
    h, w = body.shape
    steps = np.arange(0.0, 2.5 * body.shoulder_width, 2.0)
    pts = mid_sh[None, :] + steps[:, None] * d[None, :]
    xi = np.clip(pts[:, 0].round().astype(int), 0, w - 1)
    yi = np.clip(pts[:, 1].round().astype(int), 0, h - 1)
    hits = np.flatnonzero(body.lower[yi, xi])
    return float(steps[hits[0]]) if hits.size else None


def fit_garment(garment: GarmentAnalysis, body: Body) -> WarpResult:
    if garment.category == "bottoms":
        return _fit_bottoms(garment, body)
    return _fit_top(garment, body)


def _pt(lm: dict[str, np.ndarray], name: str) -> np.ndarray:
    return np.asarray(lm[name], np.float64)


def body_axis(body: Body) -> tuple[np.ndarray, np.ndarray]:
    """(u, d): unit vectors across (wearer's right -> left) and down the trunk, from mid-shoulders
    to mid-hips. The shoulder line alone tilts with a raised shoulder or a noisy landmark, and a
    garment rotated with it hung skewed, one side long and wide."""
    kp = body.kp
    v = (kp["l_hip"] + kp["r_hip"]) / 2 - (kp["l_shoulder"] + kp["r_shoulder"]) / 2
    n = float(np.linalg.norm(v))
    if n < 0.5 * body.shoulder_width or v[1] <= 0:
        return body.u, body.d
    d = v / n
    u = np.array([d[1], -d[0]])  # the rotation that takes (0, 1) to d takes (1, 0) here
    return u, d


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
    g_l_sh, g_r_sh = _pt(lm, "l_shoulder"), _pt(lm, "r_shoulder")
    g_sw = max(float(np.linalg.norm(g_l_sh - g_r_sh)), 2.0)
    g_neck_half = np.linalg.norm(_pt(lm, "l_neck") - _pt(lm, "r_neck")) / 2
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
    m = upright_fit(np.array([_pt(lm, n) for n in names]), np.array([t[n] for n in names]), d)
    # Garment px -> body px for lengths and widths below the shoulders: a sleeved garment's
    # shoulder width is the body's shoulder width (joint to joint; the flat-lay seams also span
    # the shoulders' slope and, on a boxy cut, drop past them, so scaling by the seam targets made
    # every top too long and too wide). Straps keep their own spacing.
    k = (sw if sleeved else float(np.linalg.norm(t["l_shoulder"] - t["r_shoulder"]))) / g_sw
    sh_line = (t["l_shoulder"] + t["r_shoulder"]) / 2
    sh_line = mid_sh + float(np.dot(sh_line - mid_sh, d)) * d  # on the body axis
    g_sh_mid = (g_l_sh + g_r_sh) / 2

    def half_width(g_half: float, centre: np.ndarray, fallback: float) -> float:
        """The garment's half width at this level, symmetric, covering the body with ease but no
        wider than the garment's own width (plus a little) where the body is narrower."""
        br, bl = body.width_at(centre, fallback)
        measured = min((br + bl) / 2, 0.75 * sw)  # a hand on the hip or an arm at the side inflates one side
        need = 1.05 * measured
        return max(g_half, min(need, 1.1 * g_half))

    # Armpits: the garment's cut, never inside the trunk (the chest is about as wide as the
    # shoulder joints are apart); a flat-lay armpit sits low, the body's about a quarter down.
    g_arm_half = abs(float(_pt(lm, "l_armpit")[0] - _pt(lm, "r_armpit")[0])) / 2 * k
    g_arm_depth = (float((_pt(lm, "l_armpit")[1] + _pt(lm, "r_armpit")[1]) / 2) - g_sh_mid[1]) * k
    depth = float(np.clip(float(np.dot(sh_line - mid_sh, d)) + g_arm_depth, 0.2 * torso_len, 0.3 * torso_len))
    armpit_c = mid_sh + depth * d
    ar, al = body.width_at(armpit_c, 0.5 * sw)
    chest = float(np.clip((ar + al) / 2, 0.45 * sw, 0.6 * sw))
    arm_half = max(g_arm_half, 1.06 * chest)
    t["l_armpit"] = armpit_c + arm_half * u
    t["r_armpit"] = armpit_c - arm_half * u

    t["neck_center"] = sh_line + (_pt(lm, "neck_center") - g_sh_mid) @ np.array([u, d]) * k
    # Waist and hem: as far down, relative to the shoulder seams' width, as on the garment.
    band = waistband_depth(body, mid_sh, d)
    for level in ("waist", "hem"):
        g_l, g_r = _pt(lm, f"l_{level}"), _pt(lm, f"r_{level}")
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
    g_hem_mid = (_pt(lm, "l_hem") + _pt(lm, "r_hem")) / 2
    t["hem_center"] = hem_mid + float(_pt(lm, "hem_center")[1] - g_hem_mid[1]) * k * d
    return t, m, k


def _fit_top(garment: GarmentAnalysis, body: Body) -> WarpResult:
    lm = garment.landmarks
    sw = body.shoulder_width
    t, m, k = top_targets(garment, body)
    scale = float(np.sqrt(abs(np.linalg.det(m[:, :2]))))

    names = [n for n in t if n in lm]
    src = np.array([_pt(lm, n) for n in names])
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
    box = _clip_box(np.concatenate([corners, dst]), w, h, pad=0.05 * sw)
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
    g_sh = _pt(garment.landmarks, f"{side}_shoulder")
    g_axis = sleeve.cuff - sleeve.shoulder
    g_dir = g_axis / max(np.linalg.norm(g_axis), 1e-6)
    g_perp = np.array([-g_dir[1], g_dir[0]])
    arm_hw = _arm_half_width(body, (kp[f"{side}_shoulder"] + kp[f"{side}_elbow"]) / 2, 0.12 * sw)
    g_root_hw = max(float(np.linalg.norm(sleeve.shoulder - g_sh)), sleeve.half_width)
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
    cuff_arm_hw = _arm_half_width(body, _along(chain, length)[0], arm_hw)
    t_cuff_hw = float(np.clip(sleeve.half_width * scale, 1.1 * cuff_arm_hw, 1.4 * cuff_arm_hw))
    src, dst = [], []
    cuff_t = root
    for f in (0.0, 0.5, 1.0):
        p, dvec = _along(chain, f * length)
        # Both perpendiculars are the axis turned by +90 degrees, so pairing them is a rotation
        # (the sleeve's upper edge becomes the arm's outer edge), never a mirror.
        perp = np.array([-dvec[1], dvec[0]])
        c = sleeve.shoulder + f * g_axis
        g_hw = (1 - f) * g_root_hw + f * sleeve.half_width
        b_hw = (1 - f) * t_root_hw + f * t_cuff_hw
        for k in (-1.0, 0.0, 1.0):
            src.append(c + k * g_hw * g_perp)
            dst.append(p + k * b_hw * perp)
        cuff_t = p
    src_a, dst_a = np.array(src), np.array(dst)
    pairs[f"{side}_sleeve_root"] = (sleeve.shoulder, root)
    pairs[f"{side}_sleeve_cuff"] = (sleeve.cuff, cuff_t)
    h, w = body.shape
    box = _clip_box(dst_a, w, h, pad=max(t_cuff_hw, t_root_hw))
    # Only the part of the sleeve the control points hold: the corners at its seam (shoulder
    # tip, armpit) would swing out past the arm; the torso piece covers the shoulder there.
    gh, gw = garment.alpha.shape
    yy, xx = np.mgrid[0:gh, 0:gw].astype(np.float32)
    rel_x, rel_y = xx - sleeve.shoulder[0], yy - sleeve.shoulder[1]
    along = (rel_x * g_dir[0] + rel_y * g_dir[1]) / max(sleeve.length, 1e-6)
    across = np.abs(rel_x * g_perp[0] + rel_y * g_perp[1])
    reach = (1 - np.clip(along, 0, 1)) * g_root_hw + np.clip(along, 0, 1) * sleeve.half_width
    held = (along >= -0.05) & (along <= 1.15) & (across <= 1.1 * reach)
    alpha = (garment.alpha * (sleeve.mask & held)).astype(np.float32)
    return warp_piece(f"{side}_sleeve", garment.rgb, alpha, dst_a, src_a, box, smoothing=1e-3)


def _along(chain: list[np.ndarray], dist: float) -> tuple[np.ndarray, np.ndarray]:
    """The point ``dist`` along a polyline (extended past its end) and the direction there."""
    p = chain[0]
    direction = np.array([0.0, 1.0])
    for a, b in zip(chain[:-1], chain[1:], strict=False):
        seg = b - a
        n = float(np.linalg.norm(seg))
        if n < 1e-6:
            continue
        direction = seg / n
        if dist <= n:
            return a + dist * direction, direction
        dist -= n
        p = b
    return p + dist * direction, direction


def _clip_box(pts: np.ndarray, w: int, h: int, pad: float) -> tuple[int, int, int, int]:
    x0 = int(max(0, np.floor(pts[:, 0].min() - pad)))
    y0 = int(max(0, np.floor(pts[:, 1].min() - pad)))
    x1 = int(min(w, np.ceil(pts[:, 0].max() + pad)))
    y1 = int(min(h, np.ceil(pts[:, 1].max() + pad)))
    return x0, y0, x1, y1


def _fit_bottoms(garment: GarmentAnalysis, body: Body) -> WarpResult:
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
    m = similarity_fit(np.array([_pt(lm, "l_waist"), _pt(lm, "r_waist")]), np.array([t["l_waist"], t["r_waist"]]))
    scale = float(np.sqrt(abs(np.linalg.det(m[:, :2]))))
    if "l_hip" in lm:
        hip_c = mid_hip + 0.05 * torso_len * d
        hr, hl = body.width_at(hip_c, 0.5 * sw)
        gl, gr = apply_affine(m, _pt(lm, "l_hip")), apply_affine(m, _pt(lm, "r_hip"))
        half_g = np.dot(gl - gr, u) / 2
        t["l_hip"] = hip_c + max(half_g, 1.05 * hl) * u
        t["r_hip"] = hip_c - max(half_g, 1.05 * hr) * u
    t["crotch"] = apply_affine(m, _pt(lm, "crotch"))
    for side in ("l", "r"):
        chain = [kp[f"{side}_hip"], kp[f"{side}_knee"], kp[f"{side}_ankle"]]
        g_len = np.linalg.norm(_pt(lm, f"{side}_hem_out") - _pt(lm, f"{side}_waist")) * scale
        leg_len = sum(np.linalg.norm(b - a) for a, b in zip(chain[:-1], chain[1:], strict=False))
        p, dvec = _along(chain, min(g_len * 0.95, leg_len * 1.02))
        perp = np.array([-dvec[1], dvec[0]])
        sgn = 1.0 if np.dot(perp, u) > 0 else -1.0
        g_open = _pt(lm, f"{side}_hem_out") - _pt(lm, f"{side}_hem_in") if f"{side}_hem_in" in lm else None
        half = (np.linalg.norm(g_open) * scale / 2) if g_open is not None else 0.15 * sw
        out_sign = 1.0 if side == "l" else -1.0
        t[f"{side}_hem_out"] = p + out_sign * sgn * half * perp
        if f"{side}_hem_in" in lm:
            t[f"{side}_hem_in"] = p - out_sign * sgn * half * perp
    names = [n for n in t if n in lm]
    src = np.array([_pt(lm, n) for n in names])
    dst = np.array([t[n] for n in names])
    pairs = {n: (s, d_) for n, s, d_ in zip(names, src, dst, strict=False)}
    gh, gw = garment.alpha.shape
    ring = np.array([[0, 0], [gw - 1, 0], [0, gh - 1], [gw - 1, gh - 1]], np.float64)
    h, w = body.shape
    box = _clip_box(dst, w, h, pad=0.1 * sw)
    piece = warp_piece(
        "bottoms",
        garment.rgb,
        garment.alpha.astype(np.float32),
        np.concatenate([dst, apply_affine(m, ring)]),
        np.concatenate([src, ring]),
        box,
        smoothing=1e-2,
    )
    return WarpResult(pieces=[piece] if piece else [], pairs=pairs, scale=scale)


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
