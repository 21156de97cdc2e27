"""Catalog scenes: the cut-out product rendered onto backdrops, with shadows and reflections.

A scene is data (:class:`Scene`): aspect ratio, backdrop, where the product
stands, which shadow, where the light comes from. :func:`render` turns one
scene + the prepared product into an RGB image at the output size.

Kept fast on a CPU: smooth fields (backdrops, shadows) are computed at a
fraction of the output size and upsampled (they have no fine detail), the
product is resized once per scene from a premultiplied float copy (no dark
fringes when scaling), and compositing touches only the product's rectangle.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from .describe import PaletteColour

ASPECTS = {"1:1": (1, 1), "4:5": (4, 5), "16:9": (16, 9)}


@dataclass(frozen=True)
class Scene:
    name: str
    aspect: str = "1:1"
    backdrop: str = "sweep"  # white | sweep | wall | gradient | detail
    colours: str = "light"  # a key of _fixed_colours or a palette rule (complementary, analogous, tint)
    fill: float = 0.72  # product's longer relative extent in the frame
    anchor_x: float = 0.5  # product centre, fraction of the width
    floor_y: float | None = 0.86  # base line, fraction of the height; None: centred
    shadow: str = "contact"  # contact | cast_floor | cast_wall | none
    light: tuple[float, float] = (-0.6, -0.8)  # unit vector towards the light, image axes (x right, y down)
    reflection: float = 0.0  # opacity of the floor reflection at the base
    detail: int = 0  # close-up: 1 = most detailed window inside the product (1:1), 2 = across its outline (4:5)


# Two fixed, curated sets. The 6 cover the three aspect ratios; the 12 add six more.
SET_6 = (
    Scene("white_main", "1:1", "white", "white", fill=0.85, floor_y=None, shadow="contact", light=(0.0, -1.0)),
    Scene("studio_light", "4:5", "sweep", "light", fill=0.74, shadow="cast_floor", light=(-0.8, -0.6)),
    Scene("studio_dark", "1:1", "sweep", "dark", fill=0.72, shadow="contact", light=(0.5, -0.87)),
    Scene(
        "palette_complementary",
        "4:5",
        "wall",
        "complementary",
        fill=0.70,
        floor_y=None,
        shadow="cast_wall",
        light=(-0.7, -0.7),
    ),
    Scene(
        "reflective_floor",
        "16:9",
        "sweep",
        "cool",
        fill=0.74,
        floor_y=0.84,
        shadow="contact",
        light=(0.0, -1.0),
        reflection=0.32,
    ),
    Scene("detail_closeup", "1:1", "detail", "light", detail=1),
)
SET_12 = SET_6 + (
    Scene(
        "palette_analogous",
        "1:1",
        "gradient",
        "analogous",
        fill=0.74,
        floor_y=None,
        shadow="cast_wall",
        light=(0.7, -0.7),
    ),
    Scene(
        "long_cast_shadow",
        "1:1",
        "sweep",
        "warm",
        fill=0.62,
        anchor_x=0.6,
        floor_y=0.84,
        shadow="cast_floor",
        light=(0.95, -0.3),
    ),
    Scene(
        "banner_16x9",
        "16:9",
        "gradient",
        "tint",
        fill=0.82,
        anchor_x=0.3,
        floor_y=0.9,
        shadow="contact",
        light=(-0.8, -0.6),
    ),
    Scene(
        "white_portrait_4x5",
        "4:5",
        "white",
        "white",
        fill=0.72,
        floor_y=0.82,
        shadow="contact",
        light=(0.0, -1.0),
        reflection=0.18,
    ),
    Scene(
        "dark_gloss",
        "1:1",
        "sweep",
        "black",
        fill=0.64,
        floor_y=0.8,
        shadow="contact",
        light=(-0.5, -0.87),
        reflection=0.4,
    ),
    Scene("detail_edge_4x5", "4:5", "detail", "warm", detail=2),
)
SETS = {6: SET_6, 12: SET_12}


@dataclass
class Product:
    """The cut-out product, cropped, in the form the renderer needs."""

    premult: np.ndarray  # hxwx3 float32: RGB * alpha (0-255)
    alpha: np.ndarray  # hxw float32 (0-1)
    palette: list[PaletteColour]
    details: dict[int, tuple[int, int, int, int]] = field(default_factory=dict)  # close-up number -> x, y, w, h
    # Photographed lying flat (a garment: sleeves, legs, straps, a neckline were measured): it has no
    # base to stand on, so a floor contact shadow or a floor reflection makes it look like it floats.
    flat: bool = False

    @property
    def size(self) -> tuple[int, int]:
        return self.alpha.shape[1], self.alpha.shape[0]


def prepare_product(
    rgb: np.ndarray,
    alpha: np.ndarray,
    bbox: tuple[int, int, int, int],
    palette: list[PaletteColour],
    *,
    flat: bool = False,
) -> Product:
    x0, y0, x1, y1 = bbox
    h, w = alpha.shape
    # A little margin keeps the soft edge (alpha < 0.5) that the bbox cut off.
    x0, y0, x1, y1 = max(0, x0 - 3), max(0, y0 - 3), min(w, x1 + 3), min(h, y1 + 3)
    a = alpha[y0:y1, x0:x1].astype(np.float32)
    premult = rgb[y0:y1, x0:x1].astype(np.float32) * a[..., None]
    product = Product(premult=premult, alpha=np.ascontiguousarray(a), palette=palette, flat=flat)
    crop = rgb[y0:y1, x0:x1]
    product.details = {1: detail_window(crop, a, "1:1", "inner"), 2: detail_window(crop, a, "4:5", "edge")}
    return product


def detail_window(rgb: np.ndarray, alpha: np.ndarray, aspect: str, kind: str) -> tuple[int, int, int, int]:
    """The window (x, y, w, h) of the given aspect with the most gradient energy.

    ``kind`` "inner": lying within the product (its print, texture, buttons);
    "edge": straddling its outline (its form against the backdrop), so the two
    close-ups differ even for a plain, untextured product.
    """
    h, w = alpha.shape
    aw, ah = ASPECTS[aspect]
    win_h = int(max(48, min(0.42 * min(h, w) * max(1.0, ah / aw), h)))
    win_w = int(min(w, round(win_h * aw / ah)))
    win_h = int(min(h, round(win_w * ah / aw)))
    f = max(1, round(min(h, w) / 200))  # work on a ~200 px map: it only has to find a region
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) * alpha
    energy = np.abs(cv2.Sobel(grey, cv2.CV_32F, 1, 0)) + np.abs(cv2.Sobel(grey, cv2.CV_32F, 0, 1))
    solid = cv2.erode((alpha > 0.9).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(np.float32)
    if kind == "inner":
        energy *= solid
    small_e = cv2.resize(energy, (max(1, w // f), max(1, h // f)), interpolation=cv2.INTER_AREA)
    small_a = cv2.resize(solid, (max(1, w // f), max(1, h // f)), interpolation=cv2.INTER_AREA)
    kw, kh = max(1, win_w // f), max(1, win_h // f)
    score = cv2.boxFilter(small_e, -1, (kw, kh), normalize=True, borderType=cv2.BORDER_CONSTANT)
    cover = cv2.boxFilter(small_a, -1, (kw, kh), normalize=True, borderType=cv2.BORDER_CONSTANT)
    if kind == "inner":
        # Mostly-background windows are not a close-up of the product.
        ok = cover > 0.85
        score = np.where(ok, score, np.where(cover > 0.6, score * 0.3, 0)) if ok.any() else score * cover
    else:
        score = np.where((cover > 0.4) & (cover < 0.8), score, score * 0.2)
    # Only centres whose window lies inside the crop.
    sh, sw = score.shape
    valid = np.zeros_like(score, dtype=bool)
    valid[kh // 2 : max(kh // 2 + 1, sh - (kh - kh // 2) + 1), kw // 2 : max(kw // 2 + 1, sw - (kw - kw // 2) + 1)] = (
        True
    )
    score = np.where(valid, score, -1)
    cy, cx = np.unravel_index(int(np.argmax(score)), score.shape)
    x = int(np.clip(cx * f + f // 2 - win_w // 2, 0, w - win_w))
    y = int(np.clip(cy * f + f // 2 - win_h // 2, 0, h - win_h))
    return x, y, win_w, win_h


# --------------------------------------------------------------------------- colours


def _lch_to_rgb(lum: float, chroma: float, hue: float) -> np.ndarray:
    hr = np.radians(hue)
    lab = np.array([[[lum, chroma * np.cos(hr), chroma * np.sin(hr)]]], np.float32)
    return np.clip(cv2.cvtColor(lab, cv2.COLOR_Lab2RGB).reshape(3) * 255, 0, 255)


_FIXED = {
    "white": ((255, 255, 255), (255, 255, 255)),
    "light": ((240, 240, 238), (222, 222, 220)),
    "dark": ((62, 64, 68), (30, 31, 33)),
    "cool": ((236, 240, 244), (206, 212, 218)),
    "warm": ((242, 234, 222), (222, 208, 190)),
    "black": ((26, 26, 28), (8, 8, 10)),
}


def key_hue(palette: list[PaletteColour]) -> tuple[float, bool]:
    """The product's key hue (degrees, Lab) and whether it is chromatic at all."""
    chromatic = [c for c in palette if c.chroma >= 10 and c.share >= 0.05]
    if chromatic:
        best = max(chromatic, key=lambda c: c.share * c.chroma)
        return best.hue, True
    # Black, white, grey products: a cool slate for light products, a warm sand for dark ones.
    lum = sum(c.lab[0] * c.share for c in palette)
    return (250.0 if lum > 55 else 75.0), False


def scene_colours(key: str, palette: list[PaletteColour]) -> tuple[np.ndarray, np.ndarray]:
    """(wall / start colour, floor / end colour), RGB float32."""
    if key in _FIXED:
        a, b = _FIXED[key]
        return np.array(a, np.float32), np.array(b, np.float32)
    hue, chromatic = key_hue(palette)
    if key == "complementary":
        return _lch_to_rgb(88, 16, hue + 180), _lch_to_rgb(78, 20, hue + 180)
    if key == "analogous":
        return _lch_to_rgb(86, 24, hue + 35), _lch_to_rgb(72, 28, hue - 35)
    if key == "tint":
        return np.array((252, 252, 252), np.float32), _lch_to_rgb(84, 22 if chromatic else 10, hue)
    raise ValueError(f"unknown colour key {key!r}")


# --------------------------------------------------------------------------- fields


def canvas_size(aspect: str, long_side: int) -> tuple[int, int]:
    aw, ah = ASPECTS[aspect]
    if aw >= ah:
        return long_side, round(long_side * ah / aw)
    return round(long_side * aw / ah), long_side


def _smooth_field(w: int, h: int, fn, factor: int = 16) -> np.ndarray:
    """Evaluate ``fn(u, v)`` (u, v in [0, 1], arrays) on a coarse grid and upsample to h x w."""
    gw, gh = max(2, w // factor + 1), max(2, h // factor + 1)
    v, u = np.meshgrid(np.linspace(0, 1, gh, dtype=np.float32), np.linspace(0, 1, gw, dtype=np.float32), indexing="ij")
    return cv2.resize(fn(u, v).astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)


def _smoothstep(x):
    x = np.clip(x, 0, 1)
    return x * x * (3 - 2 * x)


def backdrop(scene: Scene, w: int, h: int, c1: np.ndarray, c2: np.ndarray) -> np.ndarray | None:
    """The empty set as HxWx3 float32, or None for pure white (kept exact, never computed)."""
    lx, ly = scene.light
    aspect = w / h
    # Light pool: brighter towards the light, falling off smoothly; a gentle vignette.
    spot_u, spot_v = 0.5 + 0.35 * lx, 0.45 + 0.3 * ly

    def lighting(u, v):
        r2 = ((u - spot_u) * aspect) ** 2 + (v - spot_v) ** 2
        vign = ((u - 0.5) * aspect) ** 2 + (v - 0.5) ** 2
        return 1.0 + 0.10 * np.exp(-r2 / 0.18) - 0.10 * vign

    if scene.backdrop == "white":
        return None
    if scene.backdrop == "sweep":
        horizon = (scene.floor_y or 0.8) - 0.12

        def fn(u, v):
            t = _smoothstep((v - horizon) / 0.22)[..., None]  # the curve of a paper sweep: no hard horizon line
            return (c1 * (1 - t) + c2 * t) * lighting(u, v)[..., None]
    elif scene.backdrop == "wall":

        def fn(u, v):
            t = v[..., None] * 0.6
            return (c1 * (1 - t) + c2 * t) * lighting(u, v)[..., None]
    elif scene.backdrop == "gradient":

        def fn(u, v):
            # Diagonal gradient running away from the light.
            t = _smoothstep(0.5 - 0.5 * ((u - 0.5) * lx + (v - 0.5) * ly) * 1.4)[..., None]
            return (c1 * (1 - t) + c2 * t) * lighting(u, v)[..., None]
    else:
        raise ValueError(f"unknown backdrop {scene.backdrop!r}")
    return _smooth_field(w, h, fn)


_DITHER: list[np.ndarray] = []


def _dither(h: int, w: int) -> np.ndarray:
    """+-0.5 level noise: breaks the banding of smooth 8-bit gradients.

    One array for the largest frame, sliced for smaller ones: a cache per frame
    size held several 16 MB buffers for the life of the worker.
    """
    if not _DITHER or _DITHER[0].shape[0] < h or _DITHER[0].shape[1] < w:
        side = max(h, w, 2048)
        _DITHER[:] = [np.random.default_rng(7).uniform(-0.5, 0.5, (side, side, 1)).astype(np.float32)]
    return _DITHER[0][:h, :w]


# --------------------------------------------------------------------------- shadows


def _contact_shadow(alpha: np.ndarray, x: int, y: int, w: int, h: int, q: int) -> np.ndarray:
    """Soft shadow where the product meets the floor, at 1/q of the output size (h/q x w/q)."""
    ph, pw = alpha.shape
    out = np.zeros((h // q + 1, w // q + 1), np.float32)
    rows = np.nonzero((alpha > 0.5).any(axis=1))[0]
    base = rows[-1]
    foot = np.nonzero((alpha[max(0, base - max(2, ph // 25)) : base + 1] > 0.5).any(axis=0))[0]
    if foot.size == 0:
        return out
    fx0, fx1 = foot[0], foot[-1]
    cx = (x + (fx0 + fx1) / 2) / q
    cy = (y + base) / q
    half_w = max(2.0, (fx1 - fx0) / 2 / q)
    tall = max(ph, pw) / q
    # A broad soft pool and a tight dark core (ambient occlusion at the contact).
    cv2.ellipse(out, (round(cx), round(cy)), (round(half_w * 1.05), max(1, round(tall * 0.025))), 0, 0, 360, 0.5, -1)
    core = np.zeros_like(out)
    cv2.ellipse(core, (round(cx), round(cy)), (round(half_w * 0.95), max(1, round(tall * 0.008))), 0, 0, 360, 0.6, -1)
    # Blurred more along the floor than across it: the shadow stays flat and close to the base.
    pool = cv2.GaussianBlur(out, (0, 0), sigmaX=max(1.0, tall * 0.03), sigmaY=max(0.7, tall * 0.01))
    return pool + cv2.GaussianBlur(core, (0, 0), max(0.7, tall * 0.006))


def _cast_floor_shadow(alpha: np.ndarray, x: int, y: int, w: int, h: int, q: int, light: tuple[float, float]):
    """The silhouette laid on the floor away from the light, softer the further from the base."""
    ph, pw = alpha.shape
    small = cv2.resize(alpha, (max(1, pw // q), max(1, ph // q)), interpolation=cv2.INTER_AREA)
    base_y = (y + np.nonzero((alpha > 0.5).any(axis=1))[0][-1]) / q
    lx, ly = light
    kx = -lx * 0.9  # horizontal throw per unit of height
    ky = 0.22 + 0.3 * (1 - abs(ly))  # a low light gives a longer shadow
    # Point (X, Y) of the product at height H = base - Y lands on (X + kx H, base - ky H).
    m = np.array([[1.0, -kx, x / q + kx * (base_y - y / q)], [0.0, ky, (1 - ky) * base_y + ky * y / q]], np.float32)
    size = (w // q + 1, h // q + 1)
    shadow = cv2.warpAffine(small, m, size, flags=cv2.INTER_LINEAR, borderValue=0)
    tall = ph / q
    near = cv2.GaussianBlur(shadow, (0, 0), max(0.8, tall * 0.006))
    far = cv2.GaussianBlur(shadow, (0, 0), max(1.5, tall * 0.04))
    ys = np.arange(size[1], dtype=np.float32)[:, None]
    t = np.clip((base_y - ys) / max(1.0, ky * tall), 0, 1)  # 0 at the base, 1 at the tip
    return (near * (1 - t) + far * t) * (0.5 - 0.3 * t)


def _cast_wall_shadow(alpha: np.ndarray, x: int, y: int, w: int, h: int, q: int, light: tuple[float, float]):
    """A soft offset copy of the silhouette on a wall just behind the product."""
    ph, pw = alpha.shape
    small = cv2.resize(alpha, (max(1, pw // q), max(1, ph // q)), interpolation=cv2.INTER_AREA)
    tall = max(ph, pw) / q
    dx, dy = -light[0] * tall * 0.05, -light[1] * tall * 0.05
    m = np.array([[1.0, 0, x / q + dx], [0, 1.0, y / q + dy]], np.float32)
    shadow = cv2.warpAffine(small, m, (w // q + 1, h // q + 1), flags=cv2.INTER_LINEAR, borderValue=0)
    return cv2.GaussianBlur(shadow, (0, 0), max(1.0, tall * 0.03)) * 0.32


def _drop_shadow(alpha: np.ndarray, x: int, y: int, w: int, h: int, q: int, light: tuple[float, float]):
    """A flat product's shadow on the surface just behind it: the silhouette offset down and away
    from the light, blurred (a garment lying on a table, lit from above-front)."""
    ph, pw = alpha.shape
    small = cv2.resize(alpha, (max(1, pw // q), max(1, ph // q)), interpolation=cv2.INTER_AREA)
    tall = max(ph, pw) / q
    dx, dy = -light[0] * tall * 0.02, tall * 0.025
    m = np.array([[1.0, 0, x / q + dx], [0, 1.0, y / q + dy]], np.float32)
    shadow = cv2.warpAffine(small, m, (w // q + 1, h // q + 1), flags=cv2.INTER_LINEAR, borderValue=0)
    return cv2.GaussianBlur(shadow, (0, 0), max(1.0, tall * 0.022)) * 0.34


# --------------------------------------------------------------------------- render


def _place(product: Product, scene: Scene, w: int, h: int) -> tuple[float, int, int]:
    """Scale and top-left corner of the product in the frame."""
    pw, ph = product.size
    scale = scene.fill * min(w / pw, h / ph)
    sw, sh = pw * scale, ph * scale
    x = round(scene.anchor_x * w - sw / 2)
    if scene.floor_y is None:
        y = round((h - sh) / 2)
    else:
        y = round(scene.floor_y * h - sh)
        y = max(round(0.04 * h), y)  # a tall product on a wide frame: keep its top in the picture
    return scale, x, y


@dataclass
class Sprite:
    rgb: np.ndarray  # premultiplied colour, hxwx3 float32
    alpha: np.ndarray  # hxw float32


def _scaled(product: Product, scale: float) -> Sprite:
    pw, ph = product.size
    size = (max(1, round(pw * scale)), max(1, round(ph * scale)))
    # Linear (not cubic) when enlarging: no overshoot, so premultiplied colour stays within its alpha.
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return Sprite(
        rgb=cv2.resize(product.premult, size, interpolation=interp),
        alpha=cv2.resize(product.alpha, size, interpolation=interp),
    )


def _over(dst: np.ndarray, src: Sprite, x: int, y: int) -> None:
    """Premultiplied ``src`` over ``dst`` (float32 HxWx3) at (x, y), clipped to the frame, in place."""
    h, w = dst.shape[:2]
    sh, sw = src.alpha.shape
    x0, y0, x1, y1 = max(0, x), max(0, y), min(w, x + sw), min(h, y + sh)
    if x0 >= x1 or y0 >= y1:
        return
    a = src.alpha[y0 - y : y1 - y, x0 - x : x1 - x]
    d = dst[y0:y1, x0:x1]
    d *= (1 - a)[..., None]
    d += src.rgb[y0 - y : y1 - y, x0 - x : x1 - x]


def _shade(sprite: Sprite, light: tuple[float, float], amount: float = 0.06) -> None:
    """Brighten the product slightly on the side the light comes from (same light as the shadow), in place."""
    sh, sw = sprite.alpha.shape
    u = np.linspace(-1, 1, sw, dtype=np.float32)[None, :]
    v = np.linspace(-1, 1, sh, dtype=np.float32)[:, None]
    gain = 1 + amount * (u * light[0] + v * light[1]) / max(1e-6, abs(light[0]) + abs(light[1]))
    sprite.rgb *= gain[..., None]


def _to_uint8(img: np.ndarray) -> np.ndarray:
    # One pass, rounded and saturated (values are never meaningfully negative here).
    return cv2.convertScaleAbs(img)


def render_detail(scene: Scene, product: Product, long_side: int) -> np.ndarray:
    w, h = canvas_size(scene.aspect, long_side)
    x, y, ww, wh = product.details[scene.detail]
    c1, _ = scene_colours(scene.colours, product.palette)
    # Composite at the crop's own (small) size, then scale the 8-bit result: full-size float
    # buffers here were the renderer's peak memory (three 50 MB arrays at 2048 px).
    crop = product.premult[y : y + wh, x : x + ww] + c1 * (1 - product.alpha[y : y + wh, x : x + ww, None])
    img = cv2.resize(_to_uint8(crop), (w, h), interpolation=cv2.INTER_CUBIC if ww < w else cv2.INTER_AREA)
    if ww < w:
        # Upscaled: a mild unsharp mask restores some edge contrast (saturating 8-bit arithmetic).
        sigma = max(1.0, 0.6 * w / ww)
        img = cv2.addWeighted(img, 1.5, cv2.GaussianBlur(img, (0, 0), sigma), -0.5, 0)
    return img


def render(scene: Scene, product: Product, long_side: int) -> np.ndarray:
    """One catalog image, RGB uint8, long side ``long_side``."""
    if scene.detail:
        return render_detail(scene, product, long_side)
    w, h = canvas_size(scene.aspect, long_side)
    c1, c2 = scene_colours(scene.colours, product.palette)
    scale, x, y = _place(product, scene, w, h)
    sprite = _scaled(product, scale)
    if scene.backdrop != "white":
        _shade(sprite, scene.light)
    alpha = sprite.alpha

    bg = backdrop(scene, w, h, c1, c2)
    img = np.full((h, w, 3), 255.0, np.float32) if bg is None else bg

    q = 4  # shadows are smooth: compute them at a quarter of the size
    shadow = np.zeros((h // q + 1, w // q + 1), np.float32)
    if product.flat and scene.shadow != "none":
        # Whatever shadow the scene plans for a standing product, a flat one gets a drop shadow.
        shadow += _drop_shadow(alpha, x, y, w, h, q, scene.light) * (0.75 if scene.colours == "white" else 1.0)
    else:
        if scene.shadow in ("contact", "cast_floor"):
            shadow += _contact_shadow(alpha, x, y, w, h, q) * (0.8 if scene.colours == "white" else 1.0)
        if scene.shadow == "cast_floor":
            shadow += _cast_floor_shadow(alpha, x, y, w, h, q, scene.light)
        elif scene.shadow == "cast_wall":
            shadow += _cast_wall_shadow(alpha, x, y, w, h, q, scene.light)
    if scene.shadow != "none":
        # Below a visible level the shadow is zero, so a white set stays exactly (255, 255, 255).
        shadow = np.where(shadow < 0.01, 0, np.minimum(shadow, 0.85))
        rows = np.nonzero(shadow.any(axis=1))[0]
        if rows.size:
            r0, r1 = max(0, rows[0] - 1) * q, min(h, (rows[-1] + 2) * q)
            full = cv2.resize(shadow, ((w // q + 1) * q, (h // q + 1) * q), interpolation=cv2.INTER_LINEAR)
            img[r0:r1] *= (1 - full[r0:r1, :w])[..., None]

    if scene.reflection > 0 and not product.flat:
        base = y + np.nonzero((alpha > 0.5).any(axis=1))[0][-1]
        length = max(1, round(0.35 * (base - y + 1)))
        fade = scene.reflection * (1 - np.linspace(0, 1, length, dtype=np.float32)) ** 2
        top = base - y  # the reflection mirrors the rows just above the base
        mirrored = slice(top, max(top - length, 0) - 1 if top - length >= 0 else None, -1)
        reflection = Sprite(
            rgb=sprite.rgb[mirrored][:length] * fade[: sprite.rgb[mirrored].shape[0], None, None],
            alpha=sprite.alpha[mirrored][:length] * fade[: sprite.alpha[mirrored].shape[0], None],
        )
        _over(img, reflection, x, base + 1)

    if bg is not None:
        img += _dither(h, w)
    _over(img, sprite, x, y)
    return _to_uint8(img)
