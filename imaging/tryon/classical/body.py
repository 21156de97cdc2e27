"""The body as the fit and the composition see it: keypoints, the trunk's and arms' masks, and measures on them.

All in image pixels; ``l_`` is the person's own left. The trunk's axis, the depth
of every pixel below the shoulders, the arms' anatomical width and the trunk's
core are shared by every garment category.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from imaging.types import Box


@dataclass
class Body:
    """What the warp needs to know about the person, in image pixels."""

    shape: tuple[int, int]
    kp: dict[str, np.ndarray]  # l_/r_ shoulder, elbow, wrist, hip, knee, ankle
    torso: np.ndarray  # HxW bool: the person without arms, hands and head (for widths)
    arms: np.ndarray  # HxW bool: arms (skin or sleeve)
    lower: np.ndarray | None = None  # HxW bool: trousers, skirt (where a top's hem can rest)
    one_piece: bool = False  # the old garment runs on past the hips (a dress): no top/bottoms split

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

    def cropped(self, box: Box) -> Body:
        """The same body in the coordinates of ``box`` (keypoints shifted, masks cut)."""
        shift = np.array([box.x0, box.y0], np.float64)
        return Body(
            shape=(box.height, box.width),
            kp={k: v - shift for k, v in self.kp.items()},
            torso=self.torso[box.slices],
            arms=self.arms[box.slices],
            lower=None if self.lower is None else self.lower[box.slices],
            one_piece=self.one_piece,
        )


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


def depth_below_shoulders(body: Body) -> np.ndarray:
    """Every pixel's distance below the shoulder line, along the body's down vector."""
    h, w = body.shape
    kp = body.kp
    mid_sh = (kp["l_shoulder"] + kp["r_shoulder"]) / 2
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return (xx - mid_sh[0]) * body.d[0] + (yy - mid_sh[1]) * body.d[1]


def off_axis(body: Body) -> np.ndarray:
    """Every pixel's distance from the body's axis (the line down through the shoulders' midpoint),
    across the shoulders."""
    h, w = body.shape
    kp = body.kp
    mid_sh = (kp["l_shoulder"] + kp["r_shoulder"]) / 2
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return np.abs((xx - mid_sh[0]) * body.u[0] + (yy - mid_sh[1]) * body.u[1])


def torso_length(body: Body) -> float:
    kp = body.kp
    mid_sh = (kp["l_shoulder"] + kp["r_shoulder"]) / 2
    mid_hip = (kp["l_hip"] + kp["r_hip"]) / 2
    return max(float(np.dot(mid_hip - mid_sh, body.d)), 0.5 * body.shoulder_width)


def arm_reach(body: Body) -> np.ndarray:
    """Distance to each arm's bone divided by the arm's anatomical half width there (< 1: inside the arm).

    The half width tapers from the shoulder (0.15 shoulder widths) to the elbow (0.11) and the
    wrist (0.08): a loose old sleeve was wider than the arm, and its excess is not skin.
    """
    kp = body.kp
    chains = [
        [(kp[f"{side}_shoulder"], 0.15), (kp[f"{side}_elbow"], 0.11), (kp[f"{side}_wrist"], 0.08)]
        for side in ("l", "r")
    ]
    return _limb_reach(body, chains)


def body_core(body: Body, widen: float = 0.0) -> np.ndarray:
    """The trunk between the shoulder joints and the hips: bare skin if the garment leaves it uncovered.

    ``widen``: shoulder widths added on each side (to reach past the joints to the body's outline)."""
    kp = body.kp
    u, d = body.u, body.d
    sw = body.shoulder_width
    poly = np.array(
        [
            kp["r_shoulder"] - widen * sw * u + 0.05 * sw * d,
            kp["l_shoulder"] + widen * sw * u + 0.05 * sw * d,
            kp["l_hip"] + (0.15 + widen) * sw * u + 0.1 * sw * d,
            kp["r_hip"] - (0.15 + widen) * sw * u + 0.1 * sw * d,
        ]
    )
    core = np.zeros(body.shape, np.uint8)
    cv2.fillPoly(core, [np.round(poly).astype(np.int32)], 1)
    return core.astype(bool)


def leg_reach(body: Body) -> np.ndarray:
    """Distance to each leg's bone divided by the leg's anatomical half width there (< 1: inside the leg).

    The half width tapers from the hip (0.2 shoulder widths) to the knee (0.12) and the ankle
    (0.08): wide trousers or a full skirt stand off the leg, and their excess is not skin."""
    kp = body.kp
    chains = [
        [(kp[f"{side}_hip"], 0.2), (kp[f"{side}_knee"], 0.12), (kp[f"{side}_ankle"], 0.08)]
        for side in ("l", "r")
        if f"{side}_knee" in kp and f"{side}_ankle" in kp
    ]
    return _limb_reach(body, chains)


def _limb_reach(body: Body, chains: list[list[tuple[np.ndarray, float]]]) -> np.ndarray:
    """Distance to the nearest bone of ``chains`` (joints with the limb's half width there, in shoulder widths,
    tapering linearly between joints) divided by that half width: < 1 inside the limb."""
    h, w = body.shape
    sw = body.shoulder_width
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    reach = np.full((h, w), np.inf, np.float32)
    for chain in chains:
        for (a, wa), (b, wb) in zip(chain[:-1], chain[1:], strict=True):
            ab = (b - a).astype(np.float32)
            t = np.clip(((xx - a[0]) * ab[0] + (yy - a[1]) * ab[1]) / max(float(ab @ ab), 1e-6), 0, 1)
            dist = np.hypot(xx - (a[0] + t * ab[0]), yy - (a[1] + t * ab[1]))
            reach = np.minimum(reach, dist / (sw * (wa + t * (wb - wa))))
    return reach


# The shoulders' band: this far above and below the shoulder line, and out from the body's axis, in
# shoulder widths (from above the shoulders' tops down to about the armpits, out to the arms' outer edges).
SHOULDER_BAND_DEPTH = 0.35
SHOULDER_BAND_HALF_WIDTH = 0.8


def shoulder_box(body: Body) -> Box | None:
    """The box around the shoulders' band (``shoulder_band``), clipped to the image; None outside it."""
    sw = body.shoulder_width
    mid_sh = (body.kp["l_shoulder"] + body.kp["r_shoulder"]) / 2
    across, down = SHOULDER_BAND_HALF_WIDTH * sw * body.u, SHOULDER_BAND_DEPTH * sw * body.d
    corners = np.array([mid_sh + a * across + b * down for a in (-1, 1) for b in (-1, 1)])
    h, w = body.shape
    x0, y0 = np.floor(corners.min(axis=0)).astype(int)
    x1, y1 = np.ceil(corners.max(axis=0)).astype(int) + 1
    box = Box(max(0, int(x0)), max(0, int(y0)), min(w, int(x1)), min(h, int(y1)))
    return box if box.x1 > box.x0 and box.y1 > box.y0 else None


def shoulder_band(body: Body) -> np.ndarray:
    """The shoulders, from above their tops down to about the armpits and out to the arms' outer edges."""
    sw = body.shoulder_width
    return (np.abs(depth_below_shoulders(body)) < SHOULDER_BAND_DEPTH * sw) & (
        off_axis(body) < SHOULDER_BAND_HALF_WIDTH * sw
    )
