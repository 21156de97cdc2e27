"""Synthetic product photos with known masks, drawn by the tests themselves."""

from __future__ import annotations

import cv2
import numpy as np


def _shade(mask: np.ndarray, colour: tuple[int, int, int], rng: np.random.Generator) -> np.ndarray:
    """Fill ``mask`` with ``colour``, a horizontal shading (a lit cylinder) and a little noise."""
    h, w = mask.shape
    xs = np.nonzero(mask.any(axis=0))[0]
    x0, x1 = xs.min(), xs.max()
    t = np.clip((np.arange(w) - x0) / max(1, x1 - x0), 0, 1)
    light = (0.75 + 0.35 * np.sin(np.pi * (0.15 + 0.7 * t))).astype(np.float32)
    img = np.asarray(colour, np.float32)[None, None, :] * light[None, :, None]
    img = img + rng.normal(0, 2.0, (h, w, 3)).astype(np.float32)
    return np.clip(img, 0, 255)


def mug(
    h: int = 600,
    w: int = 800,
    background: tuple[int, int, int] = (245, 245, 243),
    *,
    shadow: bool = False,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A red mug with a handle (an open hole) on a plain background.

    Returns (rgb uint8, product mask bool, handle-hole mask bool).
    """
    rng = np.random.default_rng(seed)
    body = np.zeros((h, w), np.uint8)
    cx, top, bottom, half = w // 2 - 40, int(h * 0.2), int(h * 0.8), int(w * 0.17)
    cv2.rectangle(body, (cx - half, top), (cx + half, bottom), 1, -1)
    cv2.ellipse(body, (cx, bottom), (half, half // 5), 0, 0, 180, 1, -1)
    handle = np.zeros((h, w), np.uint8)
    hc = (cx + half, (top + bottom) // 2)
    cv2.ellipse(handle, hc, (int(half * 0.75), int((bottom - top) * 0.3)), 0, -90, 90, 1, -1)
    hole = np.zeros((h, w), np.uint8)
    cv2.ellipse(hole, hc, (int(half * 0.45), int((bottom - top) * 0.18)), 0, -90, 90, 1, -1)
    mask = ((body | handle) & ~(hole & ~body)).astype(bool)
    hole_mask = hole.astype(bool) & ~body.astype(bool)
    bg = np.empty((h, w, 3), np.float32)
    bg[:] = background
    # A faint vertical gradient, as on a real studio sweep.
    bg *= np.linspace(1.0, 0.96, h, dtype=np.float32)[:, None, None]
    if shadow:
        sh = np.zeros((h, w), np.float32)
        cv2.ellipse(sh, (cx + 30, bottom + 8), (int(half * 1.5), 22), 0, 0, 360, 1.0, -1)
        sh = cv2.GaussianBlur(sh, (0, 0), 9)
        bg *= (1 - 0.35 * sh)[..., None]
    bg += rng.normal(0, 1.0, bg.shape).astype(np.float32)
    fg = _shade(mask, (190, 40, 45), rng)
    # Antialiased edge: supersampled mask blurred a little.
    soft = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), 0.8)[..., None]
    rgb = np.clip(fg * soft + bg * (1 - soft), 0, 255).astype(np.uint8)
    return rgb, mask, hole_mask


def bottle(
    h: int = 800,
    w: int = 600,
    background: tuple[int, int, int] = (230, 232, 236),
    colour: tuple[int, int, int] = (30, 70, 140),
    seed: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """A tall bottle (navy by default) on a plain grey card. Returns (rgb, mask)."""
    rng = np.random.default_rng(seed)
    mask = np.zeros((h, w), np.uint8)
    cx = w // 2
    cv2.rectangle(mask, (cx - 90, int(h * 0.35)), (cx + 90, int(h * 0.88)), 1, -1)
    cv2.ellipse(mask, (cx, int(h * 0.35)), (90, 60), 0, 180, 360, 1, -1)
    cv2.rectangle(mask, (cx - 30, int(h * 0.12)), (cx + 30, int(h * 0.32)), 1, -1)
    cv2.rectangle(mask, (cx - 38, int(h * 0.08)), (cx + 38, int(h * 0.15)), 1, -1)
    mask = mask.astype(bool)
    fg = _shade(mask, colour, rng)
    # A white label: product pixels close to a light background colour.
    label = np.zeros_like(mask)
    label[int(h * 0.5) : int(h * 0.7), cx - 90 : cx + 91] = True
    fg[label & mask] = (250, 250, 250)
    bg = np.empty((h, w, 3), np.float32)
    bg[:] = background
    bg += rng.normal(0, 1.0, bg.shape).astype(np.float32)
    soft = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), 0.8)[..., None]
    return np.clip(fg * soft + bg * (1 - soft), 0, 255).astype(np.uint8), mask


def busy(h: int = 600, w: int = 600, seed: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """A yellow ball on a busy background (coloured blocks and noise). Returns (rgb, mask)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 255, (12, 12, 3)).astype(np.uint8)
    bg = cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST).astype(np.float32)
    bg = cv2.GaussianBlur(bg, (0, 0), 6) * 0.6 + 40
    bg += rng.normal(0, 12, bg.shape)
    mask = np.zeros((h, w), np.uint8)
    cv2.circle(mask, (w // 2, h // 2), int(min(h, w) * 0.3), 1, -1)
    mask = mask.astype(bool)
    fg = _shade(mask, (250, 210, 30), rng)
    soft = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), 0.8)[..., None]
    return np.clip(fg * soft + bg * (1 - soft), 0, 255).astype(np.uint8), mask


def white_tee(
    h: int = 800,
    w: int = 700,
    background: int = 246,
    *,
    stripes: bool = False,
    shaded_hem: bool = False,
    seed: int = 3,
) -> tuple[np.ndarray, np.ndarray]:
    """A white T-shirt on a backdrop flat to the level (as retouched product photos are).

    The fabric is 1-4 levels brighter than the backdrop, with soft shading and a
    little texture, and a small dark print in the middle. With ``stripes`` it is
    a Breton top: navy stripes whose light stripes match the backdrop's level.
    With ``shaded_hem`` the lower third lies in shade, darker than the backdrop,
    and keeps the fabric's bluish tint (where a soft shadow would be neutral).
    The photo goes through JPEG, as real ones do. Returns (rgb, mask).
    """
    rng = np.random.default_rng(seed)
    mask = np.zeros((h, w), np.uint8)
    cx = w // 2
    body = np.array([[cx - 150, 180], [cx + 150, 180], [cx + 160, 720], [cx - 160, 720]], np.int32)
    cv2.fillPoly(mask, [body], 1)
    for side in (-1, 1):  # short sleeves
        sleeve = np.array(
            [[cx + side * 120, 150], [cx + side * 290, 280], [cx + side * 240, 360], [cx + side * 150, 300]], np.int32
        )
        cv2.fillPoly(mask, [sleeve], 1)
    cv2.ellipse(mask, (cx, 150), (170, 60), 0, 0, 180, 1, -1)  # shoulders
    cv2.ellipse(mask, (cx, 140), (60, 40), 0, 0, 180, 0, -1)  # neck opening, from the top edge
    mask = mask.astype(bool)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    # Soft folds: a few levels of shading, darker and lighter than the mean.
    shading = 1.5 * np.sin(xx / 37.0) * np.cos(yy / 53.0) + 1.0 * np.sin((xx + yy) / 71.0)
    fabric = background + 2.5 + shading + rng.normal(0, 0.8, (h, w))
    img = np.repeat(fabric[..., None], 3, axis=2).astype(np.float32)
    img[..., 2] -= 1.0  # a faintly warm white
    if shaded_hem:
        shade = np.clip((yy - 500) / 60, 0, 1)[..., None] * np.array([-14.0, -13.0, -8.0], np.float32)
        img += shade
    if stripes:
        band = ((yy // 18) % 2 == 0) & mask
        img[band] = (40, 45, 70)
        light = ((yy // 18) % 2 == 1) & mask
        img[light] = background - 1 + rng.normal(0, 1.0, (int(light.sum()), 1))
    else:
        cv2.circle(img, (cx, 420), 60, (30, 30, 30), -1)  # a print
    bg = np.full((h, w, 3), float(background), np.float32)
    soft = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), 0.8)[..., None]
    if shaded_hem:  # fabric curving away at the hem: a soft outline there, as a shadow's penumbra
        soft[560:] = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), 5.0)[560:, :, None]
    rgb = np.clip(img * soft + bg * (1 - soft) + 0.5, 0, 255).astype(np.uint8)
    ok, jpg = cv2.imencode(".jpg", rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return cv2.imdecode(jpg, cv2.IMREAD_COLOR)[..., ::-1].copy(), mask


def white_on_white_tee(h: int = 800, w: int = 700, seed: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """A white T-shirt on a backdrop clipped at 255, retouched to the backdrop's very level near its outline.

    Its fabric is 1-5 levels darker than the backdrop inside (soft folds, a
    little weave), fading to exactly 255 over the outer ~25 px, where only a
    faint grey seam line along part of the outline and a soft shadow under
    the hem tell garment from backdrop; a small print sits on the chest. The
    photo goes through JPEG. Returns (rgb, mask).
    """
    rng = np.random.default_rng(seed)
    mask = np.zeros((h, w), np.uint8)
    cx = w // 2
    body = np.array([[cx - 150, 180], [cx + 150, 180], [cx + 160, 700], [cx - 160, 700]], np.int32)
    cv2.fillPoly(mask, [body], 1)
    for side in (-1, 1):
        sleeve = np.array(
            [[cx + side * 120, 150], [cx + side * 290, 280], [cx + side * 240, 360], [cx + side * 150, 300]], np.int32
        )
        cv2.fillPoly(mask, [sleeve], 1)
    cv2.ellipse(mask, (cx, 150), (170, 60), 0, 0, 180, 1, -1)
    cv2.ellipse(mask, (cx, 140), (60, 40), 0, 0, 180, 0, -1)
    mask = mask.astype(bool)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    depth = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 5)
    fade = np.clip(depth / 25.0, 0, 1)  # 0 at the outline: retouched to the backdrop's level
    shading = 3.0 + 2.0 * np.sin(xx / 37.0) * np.cos(yy / 53.0) + rng.normal(0, 0.8, (h, w))
    grey = 255.0 - fade * shading
    img = np.repeat(grey[..., None], 3, axis=2).astype(np.float32)
    cv2.rectangle(img, (cx - 50, 330), (cx + 50, 430), (200, 60, 60), -1)  # a print
    # A faint seam line along the left half of the outline.
    outline = (mask & (depth < 1.5) & (xx < cx)).astype(np.float32)
    img -= 10.0 * cv2.GaussianBlur(outline, (0, 0), 0.7)[..., None]
    # A soft shadow under the hem, on the backdrop only.
    shadow = np.zeros((h, w), np.float32)
    cv2.ellipse(shadow, (cx + 10, 712), (170, 12), 0, 0, 360, 1.0, -1)
    shadow = cv2.GaussianBlur(shadow, (0, 0), 6.0) * (~mask)
    img -= 12.0 * shadow[..., None]
    rgb = np.clip(img + 0.5, 0, 255).astype(np.uint8)
    ok, jpg = cv2.imencode(".jpg", rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return cv2.imdecode(jpg, cv2.IMREAD_COLOR)[..., ::-1].copy(), mask
