"""Catalog scenes: the cut-out product in a set it could have been photographed in.

A scene is data (:class:`Scene`): aspect ratio, the set (a pure white
background, a room where a floor in perspective meets a wall, a surface seen
from above for a flat lay, or a close-up), the surfaces (wood, marble,
concrete, plaster, linen: :mod:`.surfaces`), where the product stands, where
the light comes from, and whether the floor reflects. :func:`render` turns one
scene + the prepared product into an RGB image and says where the product went
(:class:`Placement`, which the benchmark's checks read).

One light per scene: it places the bright pool on the wall, lights the floor
from its side, shades the product, and throws the contact and cast shadows
away from it. A glossy floor mirrors the product (about its base, or about the
wall's foot for a garment hung on the wall), fading and blurring with
distance, and the wall; the gloss scene adds the light's own highlight.

Resolution: a scene is drawn no larger than the product's own pixels allow:
the product is never enlarged (a small photo gets a smaller frame, or more room
in it), and a close-up is a window of the source at 1:1 or smaller.

Kept fast on a CPU: surface patterns are cached per frame size, smooth fields
(light, shadows) are computed at a fraction of the size and upsampled, the
product is resized once per scene from a premultiplied float copy, and
compositing touches only the product's rectangle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

from . import surfaces
from .describe import PaletteColour

ASPECTS = {"1:1": (1, 1), "4:5": (4, 5), "16:9": (16, 9)}
# A scene is never drawn smaller than this (long side) to spare the product's pixels: marketplaces
# ask for 1000 px or more. Above it, the product's own resolution decides, up to the quality's cap.
MIN_LONG_SIDE = 1024
# A garment hung on the wall: its top this far below the frame's (room for the hanger's hook).
HUNG_TOP = 0.08
# Below that only where the product's pixels would otherwise be enlarged; never below this.
SMALLEST_LONG_SIDE = 512


@dataclass(frozen=True)
class Scene:
    name: str
    aspect: str = "1:1"
    backdrop: str = "room"  # white | room | flatlay | detail
    wall: str = "plaster"  # room: the wall's surface; flatlay / detail: the surface
    floor: str = "wood"  # room: the floor's surface
    colours: str = "light"  # a key of _FIXED or a palette rule (complementary, analogous, tint)
    horizon: float = 0.6  # room: where the floor meets the wall, fraction of the height
    fill: float = 0.72  # product's longer relative extent in the frame
    anchor_x: float = 0.5  # product centre, fraction of the width
    floor_y: float | None = 0.86  # base line, fraction of the height; None: centred
    shadow: str = "contact"  # contact | cast_floor | drop | none
    light: tuple[float, float] = (-0.6, -0.8)  # unit vector towards the light, image axes (x right, y down)
    reflection: float = 0.0  # how much the floor mirrors (0: matte)
    gloss: float = 0.0  # strength of the light's highlight on the floor
    # A pool of light on the floor around the product's foot (a dark set lit from above: without it the
    # floor is a flat dark band under the product).
    floor_pool: float = 0.0
    tilt: float = 0.0  # degrees: a flat lay's product turned a little, as stylists lay it
    detail: int = 0  # close-up: 1 = most detailed window inside the product (1:1), 2 = across its outline (4:5)
    # The fill is a marketplace rule (the main image: the product fills 85 % of the frame): a small
    # photo gets a smaller frame, not a softer, enlarged product; other scenes first give it more room.
    fill_rule: bool = False


# Two fixed, curated sets. The 6 cover the three aspect ratios; the 12 add six more. Each image differs
# from the others in its set, surface, light or framing, not only in colour.
SET_6 = (
    Scene("white_main", "1:1", "white", colours="white", fill=0.85, floor_y=None, light=(0.0, -1.0), fill_rule=True),
    Scene(
        "studio_light",
        "4:5",
        "room",
        "plaster",
        "wood",
        "light",
        horizon=0.62,
        fill=0.7,
        floor_y=0.88,
        shadow="cast_floor",
        light=(-0.8, -0.6),
    ),
    Scene(
        "studio_dark",
        "1:1",
        "room",
        "concrete",
        "concrete",
        "dark",
        horizon=0.64,
        fill=0.68,
        anchor_x=0.45,
        floor_y=0.88,
        shadow="contact",
        light=(0.6, -0.8),
        floor_pool=0.45,
    ),
    Scene(
        "palette_complementary",
        "4:5",
        "flatlay",
        "linen",
        colours="complementary",
        fill=0.74,
        floor_y=None,
        shadow="drop",
        light=(-0.7, -0.7),
        tilt=-4.0,
    ),
    Scene(
        "reflective_floor",
        "16:9",
        "room",
        "plaster",
        "marble",
        "cool",
        horizon=0.58,
        fill=0.72,
        floor_y=0.84,
        shadow="contact",
        light=(0.0, -1.0),
        reflection=0.38,
    ),
    Scene("detail_closeup", "1:1", "detail", "plaster", colours="light", detail=1),
)
SET_12 = SET_6 + (
    Scene(
        "palette_analogous",
        "1:1",
        "room",
        "plaster",
        "concrete",
        "analogous",
        horizon=0.66,
        fill=0.62,
        anchor_x=0.4,
        floor_y=0.9,
        shadow="cast_floor",
        light=(0.7, -0.7),
    ),
    Scene(
        "long_cast_shadow",
        "1:1",
        "room",
        "plaster",
        "dark_wood",
        "warm",
        horizon=0.56,
        fill=0.56,
        anchor_x=0.62,
        floor_y=0.84,
        shadow="cast_floor",
        light=(0.95, -0.3),
    ),
    Scene(
        "banner_16x9",
        "16:9",
        "room",
        "linen",
        "wood",
        "tint",
        horizon=0.8,
        fill=0.84,
        anchor_x=0.26,
        floor_y=0.93,
        shadow="contact",
        light=(-0.8, -0.6),
    ),
    Scene(
        "walnut_flatlay_4x5",
        "4:5",
        "flatlay",
        "dark_wood",
        colours="walnut",
        fill=0.62,
        anchor_x=0.54,
        floor_y=None,
        shadow="drop",
        light=(0.5, -0.85),
        tilt=5.0,
    ),
    Scene(
        "dark_gloss",
        "1:1",
        "room",
        "concrete",
        "black_marble",
        "black",
        horizon=0.6,
        fill=0.5,
        floor_y=0.8,
        shadow="contact",
        light=(-0.5, -0.87),
        reflection=0.5,
        gloss=1.0,
    ),
    Scene("detail_edge_4x5", "4:5", "detail", "linen", colours="warm", detail=2),
)
SETS = {6: SET_6, 12: SET_12}


@dataclass
class Product:
    """The cut-out product, cropped, in the form the renderer needs."""

    premult: np.ndarray  # hxwx3 float32: RGB * alpha (0-255), edge colours re-estimated (see prepare_product)
    alpha: np.ndarray  # hxw float32 (0-1)
    palette: list[PaletteColour]
    details: dict[int, tuple[int, int, int, int]] = field(default_factory=dict)  # close-up number -> x, y, w, h
    # Photographed lying flat (a garment: sleeves, legs, straps, a neckline were measured): it has no
    # base to stand on. In a room it hangs on the wall; it never gets a floor contact shadow.
    flat: bool = False

    @property
    def size(self) -> tuple[int, int]:
        return self.alpha.shape[1], self.alpha.shape[0]

    @property
    def lightness(self) -> float:
        """Share-weighted Lab lightness of the product's colours (0-100)."""
        return sum(c.lab[0] * c.share for c in self.palette) / max(1e-6, sum(c.share for c in self.palette))


def _smear(img: np.ndarray, weight: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Weighted blur: at each pixel the mean colour of nearby pixels of one kind, and how many there were."""
    num = cv2.GaussianBlur(img * weight[..., None], (0, 0), sigma)
    den = cv2.GaussianBlur(weight, (0, 0), sigma)
    return num / (den[..., None] + 1e-4), den


def reestimate_edge(rgb: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Edge colours and matte re-estimated against the new backdrop: (premultiplied colour, alpha).

    A pixel at the matte's edge mixes the product with the old backdrop; the
    cut-out took the backdrop's share out where it could tell them apart. Two
    things still carry the old backdrop onto a new one:

    * the edge colour itself: wherever the edge is partly transparent, the
      colour is drawn towards the colour of the solid product just inside
      (the more, the more transparent), so no trace of the old backdrop's
      colour is left to show against a dark or coloured one;
    * the matte: where product and old backdrop differ, it is unmixed again
      against the two (and only ever lowered: backdrop the cut-out kept,
      such as a half-solid gap between two legs, goes); where they had the
      same colour (a white shirt on white) its soft edge is a guess, several
      pixels wide, that reads as a light rim on a dark backdrop: it is
      tightened to a crisp edge around its half-way line.
    """
    img = rgb.astype(np.float32)
    h, w = alpha.shape
    sigma = max(1.5, max(h, w) / 600)
    solid, n_solid = _smear(img, (alpha > 0.97).astype(np.float32), sigma)
    backdrop, n_back = _smear(img, (alpha < 0.01).astype(np.float32), 2 * sigma)
    edge = (alpha > 0.0) & (alpha < 0.99)
    a = alpha[edge][:, None]
    inner = solid[edge]
    # Where no solid product is near (a thin strap), the pixel keeps its own decontaminated colour.
    reach = np.clip(n_solid[edge] / 0.05, 0, 1)[:, None]
    # Even a 90 % pixel takes a third of its colour from inside: the outermost pixel row of a photo
    # often carries a light line (the backdrop, sharpening) that reads as a rim on a dark set.
    pull = np.sqrt(1 - a) * reach
    colour = img[edge] * (1 - pull) + inner * pull
    near_back = np.clip(n_back[edge] / 0.05, 0, 1)
    b = backdrop[edge]
    # The matte against the product's colour F and the old backdrop's B: the photo's pixel, rebuilt
    # from the cut-out (I = a C + (1 - a) B, C its decontaminated colour), unmixed as
    # a = (I - B).(F - B) / |F - B|^2. Where the cut-out called backdrop product (the gap between two
    # legs left half solid, its colour the backdrop's), this is about 0; it only ever lowers the matte.
    fb = inner - b
    den = (fb * fb).sum(axis=1)
    rebuilt = a * img[edge] + (1 - a) * b
    unmixed = np.clip(((rebuilt - b) * fb).sum(axis=1) / np.maximum(den, 1.0), 0, 1)
    sure = np.clip((den - 625) / 2000, 0, 1) * near_back  # F and B at least 25 levels apart
    lowered = alpha[edge] - sure * np.maximum(0.0, alpha[edge] - unmixed)
    # Product and old backdrop alike (distance below ~20 levels, fully so below ~10): no unmixing can
    # tell them apart, so the soft edge is tightened to a crisp one about its half-way line.
    alike = np.clip((30 - np.sqrt(den)) / 20, 0, 1) * near_back
    t = np.clip((lowered - 0.25) / 0.5, 0, 1)
    tight = t * t * (3 - 2 * t)
    new_alpha = alpha.copy()
    new_alpha[edge] = lowered * (1 - alike) + tight * alike
    premult = img * alpha[..., None]
    premult[edge] = colour * new_alpha[edge][:, None]
    return premult, new_alpha


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
    # A margin keeps the soft edge (alpha < 0.5) that the bbox cut off and some backdrop to measure.
    pad = max(6, round(max(h, w) / 200))
    x0, y0, x1, y1 = max(0, x0 - pad), max(0, y0 - pad), min(w, x1 + pad), min(h, y1 + pad)
    crop = rgb[y0:y1, x0:x1]
    a = np.ascontiguousarray(alpha[y0:y1, x0:x1], np.float32)
    premult, a = reestimate_edge(crop, a)
    product = Product(premult=premult, alpha=a, palette=palette, flat=flat)
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


# (wall or surface, floor) per fixed colour key.
_FIXED = {
    "white": ((255, 255, 255), (255, 255, 255)),
    "light": ((236, 232, 224), (200, 166, 126)),  # warm white plaster, oak
    "dark": ((74, 74, 76), (56, 56, 58)),  # dark concrete
    "cool": ((222, 228, 234), (236, 236, 233)),  # cool plaster, white marble
    "warm": ((224, 204, 178), (124, 86, 58)),  # sand plaster, walnut
    "black": ((40, 40, 42), (22, 22, 24)),  # charcoal wall, black marble
    "walnut": ((118, 82, 56), (118, 82, 56)),  # a walnut table top
}
# Sets whose wall and floor are one material (concrete, stone): moved together.
_ONE_MATERIAL = ("dark", "black")
# A surface whose lightness is this close to the product's is moved away from it (Lab L).
MIN_LIGHTNESS_GAP = 16.0


def key_hue(palette: list[PaletteColour]) -> tuple[float, bool]:
    """The product's key hue (degrees, Lab) and whether it is chromatic at all."""
    chromatic = [c for c in palette if c.chroma >= 10 and c.share >= 0.05]
    if chromatic:
        best = max(chromatic, key=lambda c: c.share * c.chroma)
        return best.hue, True
    # Black, white, grey products: a cool slate for light products, a warm sand for dark ones.
    lum = sum(c.lab[0] * c.share for c in palette)
    return (250.0 if lum > 55 else 75.0), False


def _separate(colour: np.ndarray, product_lightness: float) -> np.ndarray:
    """The colour, its lightness moved away from the product's if they are too alike (a white shirt on
    white plaster disappears; it reads on a greige one)."""
    lab = cv2.cvtColor((colour / 255).reshape(1, 1, 3).astype(np.float32), cv2.COLOR_RGB2Lab).reshape(3)
    gap = float(lab[0]) - product_lightness
    if abs(gap) >= MIN_LIGHTNESS_GAP:
        return colour
    target = product_lightness - MIN_LIGHTNESS_GAP if product_lightness > 50 else product_lightness + MIN_LIGHTNESS_GAP
    lab[0] = np.clip(target, 8, 97)
    return np.clip(cv2.cvtColor(lab.reshape(1, 1, 3), cv2.COLOR_Lab2RGB).reshape(3) * 255, 0, 255)


def scene_colours(key: str, palette: list[PaletteColour], product_lightness: float | None = None):
    """(wall / surface colour, floor colour), RGB float32, chosen to suit the product."""
    if key in _FIXED:
        a, b = (np.array(c, np.float32) for c in _FIXED[key])
    else:
        hue, chromatic = key_hue(palette)
        if key == "complementary":
            a = _lch_to_rgb(80, 18, hue + 180)
            b = a
        elif key == "analogous":
            a, b = _lch_to_rgb(78, 24, hue + 35), np.array((188, 186, 182), np.float32)
        elif key == "tint":
            a, b = _lch_to_rgb(88, 14 if chromatic else 6, hue), np.array((206, 176, 138), np.float32)
        else:
            raise ValueError(f"unknown colour key {key!r}")
    if key != "white" and product_lightness is not None:
        moved = _separate(a, product_lightness)
        if key in _ONE_MATERIAL:
            # Wall and floor of one material: the floor keeps its tone against the wall (a mid-grey
            # wall over a near-black floor reads as a flat dark band across the frame).
            b = np.clip(b * float(moved.mean() / max(1.0, float(a.mean()))), 0, 255)
        a = moved
    return a.astype(np.float32), b.astype(np.float32)


# --------------------------------------------------------------------------- fields


def canvas_size(aspect: str, long_side: int) -> tuple[int, int]:
    aw, ah = ASPECTS[aspect]
    if aw >= ah:
        return long_side, round(long_side * ah / aw)
    return round(long_side * aw / ah), long_side


def _smooth_field(w: int, h: int, fn: Callable[[np.ndarray, np.ndarray], np.ndarray], factor: int = 16) -> np.ndarray:
    """Evaluate ``fn(u, v)`` (u, v in [0, 1], arrays) on a coarse grid and upsample to h x w."""
    gw, gh = max(2, w // factor + 1), max(2, h // factor + 1)
    v, u = np.meshgrid(np.linspace(0, 1, gh, dtype=np.float32), np.linspace(0, 1, gw, dtype=np.float32), indexing="ij")
    return cv2.resize(fn(u, v).astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)


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


# --------------------------------------------------------------------------- sets

FLOOR_DEPTH = 3.5  # the wall stands this much further away than the frame's bottom edge


def room(scene: Scene, w: int, h: int, horizon: int, wall_c: np.ndarray, floor_c: np.ndarray) -> np.ndarray:
    """A wall facing the camera meeting a floor in perspective at row ``horizon``, lit from ``scene.light``."""
    lx, ly = scene.light
    hz = horizon / h
    aspect = w / h
    img = np.empty((h, w, 3), np.float32)

    def wall_light(u, v):
        y = v * hz  # frame fraction
        # A pool of light on the wall on the light's side, a vignette, and the shade where wall meets floor.
        pu, pv = 0.5 + 0.42 * lx, 0.5 * hz + 0.25 * ly * hz
        pool = np.exp(-(((u - pu) * aspect) ** 2 + (y - pv) ** 2) / 0.22)
        vign = ((u - 0.5) * aspect) ** 2 * 0.5
        foot = np.exp(-(hz - y) / 0.035)
        return 0.93 + 0.13 * pool - 0.07 * vign - 0.10 * foot

    def floor_light(u, v):
        y = hz + v * (1 - hz)
        side = 0.07 * lx * (u - 0.5) * 2  # brighter on the light's side
        foot = np.exp(-(y - hz) / 0.03)  # occlusion at the wall's foot
        # The pool: widest near the wall, under the product, falling off towards the camera.
        pool = np.exp(-(((u - scene.anchor_x) * aspect / 0.42) ** 2) - ((v - 0.18) / 0.5) ** 2)
        return 0.95 + side + 0.04 * v - 0.16 * foot + scene.floor_pool * pool

    if horizon > 0:
        pattern = surfaces.wall(scene.wall, w, horizon, h)
        lit = _smooth_field(w, horizon, wall_light) * pattern
        img[:horizon] = lit[..., None] * wall_c
    if horizon < h:
        pattern = surfaces.floor(scene.floor, w, h, horizon, FLOOR_DEPTH)
        lit = _smooth_field(w, h - horizon, floor_light) * pattern
        floor = lit[..., None] * floor_c
        if scene.reflection > 0 and horizon > 0:
            # The wall mirrored in the floor about their meeting line, softened: polished, not a mirror.
            rows = np.clip(2 * horizon - 1 - np.arange(horizon, h), 0, horizon - 1)
            q = 4
            small = cv2.resize(img[rows], (w // q, max(1, (h - horizon) // q)), interpolation=cv2.INTER_AREA)
            blurred = cv2.GaussianBlur(small, (0, 0), max(1.0, 0.004 * h))
            mirrored = cv2.resize(blurred, (w, h - horizon), interpolation=cv2.INTER_LINEAR)
            t = np.linspace(0, 1, h - horizon, dtype=np.float32)[:, None, None]
            fresnel = scene.reflection * (0.35 + 0.65 * (1 - t) ** 2)  # more mirror-like towards grazing
            floor = floor * (1 - fresnel) + mirrored * fresnel
        if scene.gloss > 0:
            # The light's own highlight on the polished floor: a soft streak on the light's side, long
            # towards the camera (a specular reflection smears along the view direction).
            gu = 0.5 + 0.38 * lx

            def highlight(u, v):
                # Narrow and long, brightest near the wall (a softbox seen at a grazing angle), and faint:
                # a round bright pool reads as a spotlight with no source in view.
                return np.exp(-(((u - gu) * aspect / 0.1) ** 2) - ((v - 0.05) / 0.75) ** 2)

            floor += (scene.gloss * 34.0) * _smooth_field(w, h - horizon, highlight)[..., None]
        img[horizon:] = floor
    return img


def flatlay(scene: Scene, w: int, h: int, colour: np.ndarray) -> np.ndarray:
    """A surface seen from straight above, lit from the light's side."""
    lx, ly = scene.light
    aspect = w / h

    def light(u, v):
        return 0.96 + 0.08 * (lx * (u - 0.5) + ly * (v - 0.5)) - 0.06 * (((u - 0.5) * aspect) ** 2 + (v - 0.5) ** 2)

    lit = _smooth_field(w, h, light) * surfaces.flat(scene.wall, w, h)
    return lit[..., None] * colour


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


@dataclass
class Sprite:
    rgb: np.ndarray  # premultiplied colour, hxwx3 float32
    alpha: np.ndarray  # hxw float32


@dataclass
class Placement:
    """Where the product went in one image: what the benchmark's checks measure."""

    x: int  # top-left corner of the drawn product in the frame (may be negative: a close-up)
    y: int
    alpha: np.ndarray  # the product's matte as drawn, uint8, sprite-sized
    scale: float  # output pixels per source pixel (<= 1: never enlarged past the source's resolution)
    mirror_y: int | None = None  # the row about which the floor mirrors the product (reflective floors)
    window: tuple[int, int, int, int] | None = None  # a close-up: the window (x, y, w, h) of the product shown

    def frame_alpha(self, h: int, w: int) -> np.ndarray:
        """The drawn matte in the frame's coordinates, float32 0-1."""
        out = np.zeros((h, w), np.float32)
        sh, sw = self.alpha.shape
        x0, y0, x1, y1 = max(0, self.x), max(0, self.y), min(w, self.x + sw), min(h, self.y + sh)
        if x0 < x1 and y0 < y1:
            out[y0:y1, x0:x1] = self.alpha[y0 - self.y : y1 - self.y, x0 - self.x : x1 - self.x] / 255.0
        return out


def _scaled(product: Product, scale: float) -> Sprite:
    pw, ph = product.size
    size = (max(1, round(pw * scale)), max(1, round(ph * scale)))
    # Linear (not cubic) when enlarging: no overshoot, so premultiplied colour stays within its alpha.
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return Sprite(
        rgb=cv2.resize(product.premult, size, interpolation=interp),
        alpha=cv2.resize(product.alpha, size, interpolation=interp),
    )


def _rotated(sprite: Sprite, degrees: float) -> tuple[Sprite, int, int]:
    """The sprite turned about its centre on a canvas large enough; returns it and the growth (dx, dy)."""
    sh, sw = sprite.alpha.shape
    m = cv2.getRotationMatrix2D((sw / 2, sh / 2), degrees, 1.0)
    c, s = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(np.ceil(sw * c + sh * s)), int(np.ceil(sw * s + sh * c))
    m[0, 2] += (nw - sw) / 2
    m[1, 2] += (nh - sh) / 2
    # Cubic keeps the print crisp (linear interpolation blurs it by half a pixel); its overshoot is
    # clipped so the premultiplied colour stays within its matte.
    alpha = np.clip(cv2.warpAffine(sprite.alpha, m, (nw, nh), flags=cv2.INTER_CUBIC, borderValue=0), 0, 1)
    rgb = cv2.warpAffine(sprite.rgb, m, (nw, nh), flags=cv2.INTER_CUBIC, borderValue=(0, 0, 0))
    np.clip(rgb, 0, 255 * alpha[..., None], out=rgb)
    return Sprite(rgb=rgb, alpha=alpha), (nw - sw) // 2, (nh - sh) // 2


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


# Sub-pixel sample offsets (a 4 x 4 grid) for the crisp edge's coverage.
_SUB = (np.arange(4, dtype=np.float32) + 0.5) / 4 - 0.5


def _crisp(sprite: Sprite, reach: int = 6) -> None:
    """Redraw the matte's edge as a sharp outline along its half-way line, exactly anti-aliased, in place.

    A photo's outline is often 2-3 px soft at the output scale (the lens, JPEG, an enlarged source);
    drawn as it is, that ramp lays a skirt of product colour at low coverage just outside the
    outline, which reads as a glow around a light garment on a dark set. The outline keeps its place
    (the matte's half-way line): each edge pixel's coverage becomes the share of 16 sub-pixel points
    where the (bilinear) matte is at least one half. Only a real edge is redrawn, one that reaches
    from nearly empty to nearly solid within ``reach`` px: a sheer or lace area of even partial
    coverage keeps its matte. Works on the edge pixels only: a list of points, not the whole sprite.
    """
    a = sprite.alpha
    h, w = a.shape
    # (OpenCV's inRange / dilate / findNonZero: a whole-sprite pass each, several times numpy's speed.)
    k = np.ones((2 * reach + 1, 2 * reach + 1), np.uint8)
    edge = cv2.inRange(a, 1e-6, 1 - 1e-6)
    edge = cv2.bitwise_and(edge, cv2.dilate(cv2.inRange(a, 0.9, 2.0), k))
    edge = cv2.bitwise_and(edge, cv2.dilate(cv2.inRange(a, -1.0, 0.1), k))
    found = cv2.findNonZero(edge)
    if found is None:
        return
    xs, ys = found.reshape(-1, 2).T
    # Pixels the half-way line does not pass next to are wholly in or out: no sampling needed.
    ny, nx = np.clip(ys[:, None] + _N3Y, 0, h - 1), np.clip(xs[:, None] + _N3X, 0, w - 1)
    around = a[ny, nx]
    straddle = (around.max(axis=1) >= 0.5) & (around.min(axis=1) < 0.5)
    ry, rx = ys[~straddle], xs[~straddle]
    inside = a[ry, rx] >= 0.5
    sprite.rgb[ry, rx] *= np.where(inside, 1 / np.maximum(a[ry, rx], 0.5), 0)[:, None]
    a[ry, rx] = inside
    ys, xs, ny, nx = ys[straddle], xs[straddle], ny[straddle], nx[straddle]
    if ys.size == 0:
        return
    old = a[ys, xs]
    # Bilinear matte at the 16 sub-pixel points of each edge pixel.
    py = (ys[:, None, None] + _SUB[None, :, None]).astype(np.float32)
    px = (xs[:, None, None] + _SUB[None, None, :]).astype(np.float32)
    py, px = np.clip(py, 0, h - 1), np.clip(px, 0, w - 1)
    y0, x0 = (
        np.minimum(py.astype(np.int32), h - 2 if h > 1 else 0),
        np.minimum(px.astype(np.int32), w - 2 if w > 1 else 0),
    )
    fy, fx = py - y0, px - x0
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    top = a[y0, x0] * (1 - fx) + a[y0, x1] * fx
    bottom = a[y1, x0] * (1 - fx) + a[y1, x1] * fx
    sub = top * (1 - fy) + bottom * fy
    new = (sub >= 0.5).reshape(ys.size, -1).mean(axis=1).astype(np.float32)
    # The colour, un-premultiplied: a pixel's own where it had some coverage, else the coverage-weighted
    # mean of its 3 x 3 neighbours (the product colour next to it, not the old backdrop).
    rgb = sprite.rgb
    own = rgb[ys, xs] / np.maximum(old, 1e-4)[:, None]
    near = rgb[ny, nx].sum(axis=1) / np.maximum(a[ny, nx].sum(axis=1), 1e-4)[:, None]
    trust = np.clip((old - 0.05) / 0.25, 0, 1)[:, None]
    colour = np.clip(own * trust + near * (1 - trust), 0, 255)
    rgb[ys, xs] = colour * new[:, None]
    a[ys, xs] = new


_N3Y = np.array([-1, -1, -1, 0, 0, 0, 1, 1, 1])[None, :]
_N3X = np.array([-1, 0, 1, -1, 0, 1, -1, 0, 1])[None, :]


def _hanger(img: np.ndarray, alpha: np.ndarray, x: int, y: int, light: tuple[float, float]) -> None:
    """A metal hanger's hook rising from the garment's neck over a small peg in the wall, in place.

    Drawn before the garment (the collar covers the hook's stem), with its own soft shadow on the
    wall; 4 x supersampled, so the thin wire is smooth. Without it a garment on the wall floats.
    """
    h, w = img.shape[:2]
    solid = alpha > 0.5
    cols = np.nonzero(solid.any(axis=0))[0]
    rows = np.nonzero(solid.any(axis=1))[0]
    if cols.size < 8 or rows.size < 8:
        return
    cx = int(cols[0] + cols[-1]) // 2
    centre = np.nonzero(solid[:, max(0, cx - 2) : cx + 3].any(axis=1))[0]
    neck = int(centre[0]) if centre.size else int(rows[0])  # the back of the collar, or the waistband
    top = int(rows[0])
    # The garment's size (geometric mean of height and width: long trousers get no giant hook).
    unit = float(np.sqrt((rows[-1] - rows[0] + 1) * (cols[-1] - cols[0] + 1)))
    if neck - top > 0.15 * (rows[-1] - rows[0] + 1):
        # Straps or a deep neckline: the hanger's bar would show between them, a bare hook's wire
        # would float across the gap. No hanger.
        return
    r = max(4.0, 0.033 * unit)  # the hook's radius
    t = max(2.0, 0.008 * unit)  # the wire's thickness
    stem_x = x + cx
    stem_top = y + top - 0.55 * r  # the stem rises a little above the shoulders, then curls
    stem_bottom = y + neck + 2 * t  # hidden behind the collar
    c_x, c_y = stem_x + r, stem_top
    f = 4
    x0, y0 = int(stem_x - 3 * t), int(c_y - r - 3 * t)
    x1, y1 = int(c_x + r + 3 * t) + 1, int(stem_bottom) + 1
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return

    def wire(thickness: float) -> np.ndarray:
        big = np.zeros(((y1 - y0) * f, (x1 - x0) * f), np.uint8)
        th = max(1, round(thickness * f))

        def p(px: float, py: float) -> tuple[int, int]:
            return round((px - x0) * f), round((py - y0) * f)

        cv2.line(big, p(stem_x, stem_bottom), p(stem_x, c_y), 255, th, cv2.LINE_AA)
        axes = (round(r * f), round(r * f))
        cv2.ellipse(big, p(c_x, c_y), axes, 0, 180, 395, 255, th, cv2.LINE_AA)
        return cv2.resize(big, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA).astype(np.float32) / 255

    outer, inner = wire(t), wire(0.4 * t)
    pr = max(1.5, 0.7 * t)
    big = np.zeros(((y1 - y0) * f, (x1 - x0) * f), np.uint8)
    pc = (round((c_x - x0) * f), round((c_y - r + t / 2 + pr - y0) * f))
    cv2.circle(big, pc, round(pr * f), 255, -1, cv2.LINE_AA)
    peg = cv2.resize(big, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    patch = img[y0:y1, x0:x1]
    # The wire's and the peg's soft shadow on the wall, away from the light.
    cover = np.maximum(outer, peg)
    m = np.array([[1, 0, -light[0] * 1.5 * r], [0, 1, -light[1] * 1.5 * r]], np.float32)
    cast = cv2.warpAffine(cover, m, (x1 - x0, y1 - y0), borderValue=0)
    cast = cv2.GaussianBlur(cast, (0, 0), max(1.0, 0.8 * t))
    patch *= (1 - 0.35 * cast)[..., None]
    # Chrome wire: a dark rim, a light core; the peg dark, in front of the wire at the top.
    wire_rgb = 95.0 * (outer - inner)[..., None] + 215.0 * inner[..., None]
    patch *= (1 - outer)[..., None]
    patch += wire_rgb
    patch *= (1 - peg)[..., None]
    patch += 60.0 * peg[..., None]


def _to_uint8(img: np.ndarray) -> np.ndarray:
    # One pass, rounded and saturated (values are never meaningfully negative here).
    return cv2.convertScaleAbs(img)


def _reflect(img: np.ndarray, sprite: Sprite, x: int, y: int, mirror_y: int, strength: float, tall: int) -> None:
    """The product mirrored in the floor about row ``mirror_y``: fading and blurring with distance, in place.

    Frame row ``mirror_y + j`` shows sprite row ``k - j`` (``k``: the mirror line's sprite row; a
    product hung above the floor has its reflection start below a gap as wide as its own).
    """
    h = img.shape[0]
    sh = sprite.alpha.shape[0]
    k = mirror_y - y
    length = max(2, round(0.6 * tall))
    j0 = max(0, k - (sh - 1))
    j1 = min(k, h - 1 - mirror_y, length - 1)
    if j1 < j0:
        return
    j = np.arange(j0, j1 + 1)
    rows = k - j
    rgb, alpha = sprite.rgb[rows], sprite.alpha[rows]
    sigma = max(1.0, 0.012 * tall)
    t = (j / length).astype(np.float32)
    blur_rgb = cv2.GaussianBlur(rgb, (0, 0), sigma)
    blur_a = cv2.GaussianBlur(alpha, (0, 0), sigma)
    mix = np.minimum(1.0, 1.5 * t)[:, None]  # sharp at the contact, fully blurred two thirds down
    fade = (strength * (1 - t) ** 2)[:, None]
    refl = Sprite(
        rgb=(rgb * (1 - mix[..., None]) + blur_rgb * mix[..., None]) * fade[..., None],
        alpha=(alpha * (1 - mix) + blur_a * mix) * fade,
    )
    _over(img, refl, x, mirror_y + j0)


def _base_row(alpha: np.ndarray) -> int:
    return int(np.nonzero((alpha > 0.5).any(axis=1))[0][-1])


def _detail_scale(scene: Scene, product: Product, long_side: int) -> tuple[tuple[int, int, int, int], float, int, int]:
    """The close-up's window (grown towards the output size where the product allows) and output size.

    Never enlarged: a window smaller than the output gives a smaller image.
    """
    w, h = canvas_size(scene.aspect, long_side)
    x, y, ww, wh = product.details[scene.detail]
    pw, ph = product.size
    if ww < w:
        # A wider window shows more of the product at full resolution: grow it about its centre.
        # At most a third larger: past that it is no longer a close-up but the whole product again.
        grow = min(w / ww, pw / ww, ph / wh, 1.33)
        nw, nh = int(ww * grow), int(wh * grow)
        x = int(np.clip(x + ww / 2 - nw / 2, 0, pw - nw))
        y = int(np.clip(y + wh / 2 - nh / 2, 0, ph - nh))
        ww, wh = nw, nh
    scale = min(1.0, w / ww)
    return (x, y, ww, wh), scale, max(1, round(ww * scale)), max(1, round(wh * scale))


def render_detail(scene: Scene, product: Product, long_side: int, draw_product: bool = True):
    (x, y, ww, wh), scale, ow, oh = _detail_scale(scene, product, long_side)
    c1, _ = scene_colours(scene.colours, product.palette, product.lightness)
    rgb = product.premult[y : y + wh, x : x + ww]
    alpha = product.alpha[y : y + wh, x : x + ww]
    if scale < 1:
        rgb = cv2.resize(rgb, (ow, oh), interpolation=cv2.INTER_AREA)
        alpha = cv2.resize(alpha, (ow, oh), interpolation=cv2.INTER_AREA)
    img = flatlay(scene, ow, oh, c1)
    if draw_product:
        _over(img, Sprite(rgb=rgb, alpha=alpha), 0, 0)
    img += _dither(oh, ow)
    a8 = (alpha * 255 + 0.5).astype(np.uint8)
    return _to_uint8(img), Placement(x=0, y=0, alpha=a8, scale=scale, window=(x, y, ww, wh))


def output_long_side(scene: Scene, product: Product, long_side: int) -> int:
    """The scene's long side: the quality's cap, or less where the product would have to be enlarged.

    Above ``MIN_LONG_SIDE`` the frame shrinks until the product fills it as planned at 1:1; at that
    size a scene other than the main image may give the product up to a fifth more room. Where even
    that would enlarge it, the frame shrinks further, down to ``SMALLEST_LONG_SIDE``: a smaller image,
    never a soft upscale (the main image keeps its 85 % fill this way). Rounded down to a multiple of
    64 (so surface patterns are shared between products).
    """
    w, h = canvas_size(scene.aspect, long_side)
    pw, ph = product.size
    scale = scene.fill * min(w / pw, h / ph)
    if scale <= 1:
        return long_side
    native = long_side / scale  # the frame in which the product fills as planned at 1:1
    side = max(min(long_side, MIN_LONG_SIDE), int(native) // 128 * 128)
    room = 1.0 if scene.fill_rule else 0.8
    smallest = native / room  # the largest frame the product fills without enlarging (given the room)
    if side > smallest:
        side = max(SMALLEST_LONG_SIDE, int(smallest) // 64 * 64)
    return min(side, long_side)


def render(scene: Scene, product: Product, long_side: int, *, draw_product: bool = True):
    """One catalog image (RGB uint8, long side ``long_side`` or less) and where the product went.

    ``draw_product=False`` draws the same set without the product or its reflection (shadows kept):
    the backdrop the edge checks compare with.
    """
    if scene.detail:
        return render_detail(scene, product, long_side, draw_product)
    long_side = output_long_side(scene, product, long_side)
    w, h = canvas_size(scene.aspect, long_side)
    wall_c, floor_c = scene_colours(scene.colours, product.palette, product.lightness)
    pw, ph = product.size
    scale = scene.fill * min(w / pw, h / ph)
    if scale > 1:
        # The frame was sized for the product at 1:1 (see output_long_side); where it would still be
        # enlarged, it is drawn at 1:1 with more room around it instead: never a soft upscale.
        scale = 1.0
    hung = product.flat and scene.backdrop == "room"
    horizon = round(scene.horizon * h)
    if hung:
        # A garment hangs on the wall, a little above the floor, which stays in view below it.
        top, gap = HUNG_TOP, (0.03 if scene.reflection else 0.05)
        scale = min(scale, (0.93 - gap - top) * h / ph)
        # (on a 1/64 grid of the height: the floor's pattern is cached per horizon)
        horizon = int(np.ceil(((top + gap) * h + ph * scale) / h * 64)) * h // 64
    if scene.tilt:
        # Turned at the source's resolution, then reduced: turning the reduced product would soften it.
        turned, _, _ = _rotated(Sprite(rgb=product.premult, alpha=product.alpha), scene.tilt)
        size = (max(1, round(pw * scale)), max(1, round(ph * scale)))
        interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        th, tw = turned.alpha.shape
        tsize = (max(1, round(tw * scale)), max(1, round(th * scale)))
        sprite = Sprite(
            rgb=cv2.resize(turned.rgb, tsize, interpolation=interp),
            alpha=cv2.resize(turned.alpha, tsize, interpolation=interp),
        )
        dx, dy = (tsize[0] - size[0]) // 2, (tsize[1] - size[1]) // 2
    else:
        sprite = _scaled(product, scale)
        dx = dy = 0
    sh, sw = sprite.alpha.shape[0] - 2 * dy, sprite.alpha.shape[1] - 2 * dx  # the product's own size
    x = round(scene.anchor_x * w - sw / 2)
    if hung:
        y = round(HUNG_TOP * h)
    elif scene.floor_y is None:
        y = round((h - sh) / 2)
    else:
        y = max(round(0.04 * h), round(scene.floor_y * h - sh))  # a tall product on a wide frame: top in view
    x, y = x - dx, y - dy
    if scene.backdrop != "white":
        _shade(sprite, scene.light)
        _crisp(sprite)
    alpha = sprite.alpha

    if scene.backdrop == "white":
        img = np.full((h, w, 3), 255.0, np.float32)
    elif scene.backdrop == "room":
        img = room(scene, w, h, horizon, wall_c, floor_c)
    elif scene.backdrop == "flatlay":
        img = flatlay(scene, w, h, wall_c)
    else:
        raise ValueError(f"unknown backdrop {scene.backdrop!r}")

    q = 4  # shadows are smooth: compute them at a quarter of the size
    shadow = np.zeros((h // q + 1, w // q + 1), np.float32)
    if scene.shadow != "none":
        if hung:
            # On the wall just behind it, offset away from the light.
            shadow += _cast_wall_shadow(alpha, x, y, w, h, q, scene.light)
        elif product.flat or scene.shadow == "drop":
            shadow += _drop_shadow(alpha, x, y, w, h, q, scene.light) * (0.75 if scene.colours == "white" else 1.0)
        else:
            shadow += _contact_shadow(alpha, x, y, w, h, q) * (0.8 if scene.colours == "white" else 1.0)
            if scene.shadow == "cast_floor":
                shadow += _cast_floor_shadow(alpha, x, y, w, h, q, scene.light)
        # Below a visible level the shadow is zero, so a white set stays exactly (255, 255, 255).
        shadow = np.where(shadow < 0.01, 0, np.minimum(shadow, 0.85))
        rows = np.nonzero(shadow.any(axis=1))[0]
        if rows.size:
            r0, r1 = max(0, rows[0] - 1) * q, min(h, (rows[-1] + 2) * q)
            full = cv2.resize(shadow, ((w // q + 1) * q, (h // q + 1) * q), interpolation=cv2.INTER_LINEAR)
            img[r0:r1] *= (1 - full[r0:r1, :w])[..., None]

    if hung:
        _hanger(img, alpha, x, y, scene.light)

    mirror_y = None
    if scene.reflection > 0 and scene.backdrop == "room":
        mirror_y = horizon if hung else y + _base_row(alpha) + 1
        if draw_product:
            _reflect(img, sprite, x, y, mirror_y, scene.reflection, sh)

    if scene.backdrop != "white":
        img += _dither(h, w)
    if draw_product:
        _over(img, sprite, x, y)
    a8 = (alpha * 255 + 0.5).astype(np.uint8)
    return _to_uint8(img), Placement(x=x, y=y, alpha=a8, scale=scale, mirror_y=mirror_y)
