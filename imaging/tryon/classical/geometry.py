"""Plane geometry for fitting garments: thin-plate splines, similarity fits, polylines, boxes around points."""

from __future__ import annotations

import numpy as np

from imaging.types import Box


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


def along(chain: list[np.ndarray], dist: float) -> tuple[np.ndarray, np.ndarray]:
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


def clip_box(pts: np.ndarray, w: int, h: int, pad: float) -> Box:
    """The box around ``pts`` grown by ``pad``, clipped to a w x h image."""
    x0 = int(max(0, np.floor(pts[:, 0].min() - pad)))
    y0 = int(max(0, np.floor(pts[:, 1].min() - pad)))
    x1 = int(min(w, np.ceil(pts[:, 0].max() + pad)))
    y1 = int(min(h, np.ceil(pts[:, 1].max() + pad)))
    return Box(x0, y0, x1, y1)


def segment_distance(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance of every point of p (..., 2) to the segment a-b."""
    ab = (b - a).astype(np.float32)
    t = np.clip(((p - a) @ ab) / max(float(ab @ ab), 1e-6), 0.0, 1.0)
    return np.linalg.norm(p - (a + t[..., None] * ab), axis=-1)
