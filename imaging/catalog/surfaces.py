"""Procedural surfaces for the catalog scenes: wood, marble, concrete, plaster and linen, made here.

No downloaded textures. Every surface is a greyscale *pattern* (a multiplier
around 1.0, HxW float32) evaluated with vectorised numpy from one small random
tile of value noise sampled with ``cv2.remap`` (bilinear, wrapping): a few
octaves of that tile give the mottling of plaster and concrete, the veins of
marble, the grain of wood and the slubs of linen. A scene then colours the
pattern with colours chosen for the product.

Floors are laid out in perspective: a pixel below the line where the floor
meets the wall is mapped to floor coordinates (X across, Z in depth) through a
camera looking slightly down, so wood planks converge towards a vanishing
point and the grain and veins shrink with distance. Walls face the camera.

Patterns depend only on the surface, the frame size and the horizon, not on
the product, so they are cached per process (a worker renders the same few
frame sizes over and over).
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

TILE = 128  # side of the noise tile: small, so each remap reads from cache

FLOOR_SURFACES = ("wood", "dark_wood", "marble", "black_marble", "concrete")
WALL_SURFACES = ("plaster", "concrete", "linen")


@lru_cache(maxsize=4)
def _tile(seed: int) -> np.ndarray:
    """A TILE x TILE tile of smooth value noise in [0, 1] that wraps at its edges."""
    rng = np.random.default_rng(seed)
    coarse = rng.random((TILE // 4, TILE // 4)).astype(np.float32)
    # Cubic upsampling of a wrapped coarse grid: smooth, and still seamless.
    padded = np.pad(coarse, 2, mode="wrap")
    up = cv2.resize(padded, (padded.shape[1] * 4, padded.shape[0] * 4), interpolation=cv2.INTER_CUBIC)
    return np.ascontiguousarray(up[8 : 8 + TILE, 8 : 8 + TILE])


def noise(x: np.ndarray, y: np.ndarray, freq: float, seed: int = 0, octaves: int = 1) -> np.ndarray:
    """Fractal value noise around 0 (about -0.5..0.5) at coordinates x, y (float32 arrays, any units).

    ``freq`` is cycles of the tile per unit: each octave doubles it and halves the amplitude.
    """
    tile = _tile(seed)
    out = np.zeros(x.shape, np.float32)
    amp, total = 1.0, 0.0
    for o in range(octaves):
        f = np.float32(freq * (2**o) * TILE / 8)  # 8 noise cells per tile
        # An odd offset per octave so the octaves do not line up.
        mx = x * f + np.float32(17.3 * o)
        my = y * f + np.float32(29.1 * o)
        out += amp * (cv2.remap(tile, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP) - 0.5)
        total += amp
        amp *= 0.5
    return out / np.float32(total)


def _coarse(fn, x: np.ndarray, y: np.ndarray, step: int = 4) -> np.ndarray:
    """``fn(x, y)`` for a smooth term, evaluated on every ``step``-th pixel and upsampled: the slow
    octaves of a surface cost a sixteenth as much, and nothing visible changes."""
    h, w = x.shape
    small = fn(np.ascontiguousarray(x[::step, ::step]), np.ascontiguousarray(y[::step, ::step]))
    return cv2.resize(small.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)


def _grid(w: int, h: int, unit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates in units of ``unit`` pixels (the frame height by default), x across, y down, float32."""
    unit = unit or h
    xs = np.arange(w, dtype=np.float32)[None, :] / np.float32(unit)
    ys = np.arange(h, dtype=np.float32)[:, None] / np.float32(unit)
    return np.broadcast_to(xs, (h, w)).copy(), np.broadcast_to(ys, (h, w)).copy()


# --------------------------------------------------------------------------- walls (facing the camera)


def _plaster(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    # Broad, soft trowel clouds and a fine sandy grain: a few percent either way, never a pattern.
    clouds = _coarse(lambda a, b: noise(a * 0.8, b * 1.4, 2.0, seed=1, octaves=4), x, y)
    grain = noise(x, y, 90.0, seed=2, octaves=2)
    return 1.0 + 0.07 * clouds + 0.025 * grain


def _concrete(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    mottle = _coarse(lambda a, b: noise(a, b, 3.0, seed=3, octaves=4), x, y) + 0.1 * noise(x, y, 48.0, seed=3)
    speck = noise(x, y, 140.0, seed=4, octaves=1)
    # Air pores: small dark spots where a fine noise dips far below its mean.
    pores = np.clip((-noise(x, y, 45.0, seed=5, octaves=1) - 0.36) * 8.0, 0, 1)
    return 1.0 + 0.11 * mottle + 0.05 * speck - 0.08 * pores


def _linen(x: np.ndarray, y: np.ndarray, threads: float) -> np.ndarray:
    """Plain weave: warp and weft threads crossing, each thread a little thicker or thinner (slubs)."""
    tx, ty = x[:1, :], y[:, :1]  # the weave is separable: rows and columns, then one outer sum
    weft = np.cos(2 * np.pi * ty * threads) * (0.6 + 0.4 * noise(ty * 0 + 0.5, ty, threads * 0.06, seed=6) * 2)
    warp = np.cos(2 * np.pi * tx * threads) * (0.6 + 0.4 * noise(tx, tx * 0 + 0.5, threads * 0.06, seed=7) * 2)
    slub_row = noise(ty * 0 + 0.25, ty, threads * 0.15, seed=8, octaves=2)
    slub_col = noise(tx, tx * 0 + 0.75, threads * 0.15, seed=9, octaves=2)
    # Slubs kept faint: stronger, whole rows and columns of them read as a woven check, not linen.
    weave = 0.03 * (weft + warp) + 0.015 * (slub_row + slub_col)
    fibre = 0.03 * noise(x, y, threads * 0.25, seed=12)  # irregular yarn, not aligned to rows or columns
    return 1.0 + weave + fibre + 0.05 * _coarse(lambda a, b: noise(a, b, 2.5, seed=10, octaves=3), x, y)


def wall_pattern(kind: str, w: int, h: int, unit: int | None = None) -> np.ndarray:
    """The pattern of a wall ``h`` rows high; ``unit``: the frame height, so the texture's scale follows the frame."""
    x, y = _grid(w, h, unit)
    if kind == "plaster":
        return _plaster(x, y)
    if kind == "concrete":
        return _concrete(x, y)
    if kind == "linen":
        # About 160 threads per frame height at any output size: visible, never moiré at 1024 px.
        return _linen(x, y, 160.0)
    raise ValueError(f"unknown wall surface {kind!r}")


# --------------------------------------------------------------------------- floors (in perspective)


def floor_coordinates(w: int, h: int, horizon: int, depth: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Floor coordinates (X across, Z away from the camera) and the floor's size of one pixel, rows below ``horizon``.

    The vanishing line lies above the horizon (the camera looks slightly down);
    ``depth`` is how much further away the wall is than the bottom of the frame.
    Returns X, Z (float32, (h - horizon) x w) and the footprint of one pixel (in
    the same units), used to keep thin lines a pixel wide far away.
    """
    rows = h - horizon
    # Z = 1 at the bottom row, Z = depth at the wall: Z = (h - yv) / (y - yv) puts the vanishing line at yv.
    yv = (depth * horizon - h) / (depth - 1)
    ys = np.arange(horizon, h, dtype=np.float32)[:, None] + 0.5
    z = (h - yv) / (ys - yv)
    xs = (np.arange(w, dtype=np.float32)[None, :] - w / 2) / h
    big_x = xs * z
    big_z = np.broadcast_to(z, (rows, w))
    return big_x.astype(np.float32), np.ascontiguousarray(big_z, np.float32), (z / h).astype(np.float32)


def _wood(
    x: np.ndarray, z: np.ndarray, px: np.ndarray, plank: float, seed: int, board_len: float | None = 1.6
) -> np.ndarray:
    """Planks running away from the camera, staggered board ends, grain along the board.

    ``board_len`` None: boards that run the whole length (a table top), no end joints.
    """
    idx = np.floor(x / plank)
    fx = x / plank - idx  # across one plank, 0..1
    # Each plank a slightly different tone and grain offset, from the noise tile at its index.
    tone = noise(idx * 0.37, idx * 0 + 0.5, 1.0, seed=seed)
    ends = board_len is not None
    board_len = board_len or 1.0
    zs = z / board_len + tone * 3.0  # staggered ends
    end = zs - np.floor(zs)
    grain_x = x * 60.0 + _coarse(lambda a, b: noise(a * 3, b * 0.5, 1.0, seed=seed + 1, octaves=2), x, z) * 6.0
    rings = np.sin(grain_x + idx * 3.1) * 0.5 + 0.5
    streaks = noise(x * 25.0, z * 1.2, 1.0, seed=seed + 2, octaves=3)
    # Seams a fraction of a pixel to about a pixel wide at any distance (``px``: floor size of a pixel).
    seam_w = np.maximum(px, 0.0015) / plank
    seam = np.exp(-((np.minimum(fx, 1 - fx) / seam_w) ** 2))
    end_w = np.maximum(px, 0.0015) / board_len * 1.5
    seam_end = np.exp(-((np.minimum(end, 1 - end) / end_w) ** 2))
    if not ends:
        # A table top seen from close by, flat: its fine grain shows (long thin streaks along the board),
        # and no board ends.
        seam_end = np.zeros_like(seam)
        streaks = streaks + 0.6 * noise(x * 110.0, z * 2.5, 1.0, seed=seed + 3, octaves=2)
    return 1.0 + 0.16 * tone + 0.07 * rings + 0.10 * streaks - 0.35 * np.maximum(seam, seam_end)


def _marble(x: np.ndarray, z: np.ndarray, seed: int) -> np.ndarray:
    """Soft clouds and thin branching veins (a turbulent sine, sharpened)."""
    turb = _coarse(lambda a, b: noise(a, b, 0.9, seed=seed, octaves=5), x, z, step=2)
    v = np.abs(np.sin((x * 2.2 + z * 1.3) * 3.0 + turb * 6.0))
    veins = (1 - v) ** 10
    fine = (1 - np.abs(np.sin((x * 1.1 - z * 2.0) * 5.0 + turb * 10.0))) ** 18
    clouds = _coarse(lambda a, b: noise(a, b, 1.5, seed=seed + 1, octaves=3), x, z)
    return 1.0 + 0.06 * clouds - 0.22 * veins - 0.10 * fine


def floor_pattern(kind: str, w: int, h: int, horizon: int, depth: float) -> np.ndarray:
    x, z, px = floor_coordinates(w, h, horizon, depth)
    px = np.broadcast_to(px, x.shape)
    if kind in ("wood", "dark_wood"):
        return _wood(x, z, px, plank=0.16, seed=11 if kind == "wood" else 21)
    if kind == "marble":
        return _marble(x, z, seed=31)
    if kind == "black_marble":
        # Dark stone: the veins are light, not dark.
        return 2.0 - _marble(x, z, seed=41)
    if kind == "concrete":
        return _concrete(x * 0.6, z * 0.6)
    raise ValueError(f"unknown floor surface {kind!r}")


@lru_cache(maxsize=8)
def wall(kind: str, w: int, h: int, unit: int) -> np.ndarray:
    """The wall pattern (cached; read-only)."""
    out = wall_pattern(kind, w, h, unit).astype(np.float32)
    out.setflags(write=False)
    return out


@lru_cache(maxsize=8)
def floor(kind: str, w: int, h: int, horizon: int, depth: float) -> np.ndarray:
    """The floor pattern below ``horizon`` (cached; read-only)."""
    out = floor_pattern(kind, w, h, horizon, depth).astype(np.float32)
    out.setflags(write=False)
    return out


@lru_cache(maxsize=4)
def flat(kind: str, w: int, h: int) -> np.ndarray:
    """A surface seen from straight above (a flat lay), filling the frame (cached; read-only)."""
    if kind == "linen":
        out = wall_pattern("linen", w, h)
    elif kind in ("wood", "dark_wood"):
        # Table top from above: boards down the frame, no perspective (Z runs down the frame). Narrow
        # boards that run the whole length: a few wide panels with end joints read as a door.
        x, y = _grid(w, h)
        out = _wood(
            x - 0.5 * w / h,
            y * 1.0,
            np.full_like(x, 1.0 / h),
            plank=0.115,
            seed=11 if kind == "wood" else 21,
            board_len=None,
        )
    elif kind == "marble":
        x, y = _grid(w, h)
        out = _marble(x, y, seed=31)
    else:
        out = wall_pattern(kind, w, h)
    out = out.astype(np.float32)
    out.setflags(write=False)
    return out
