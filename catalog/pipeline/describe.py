"""Measurements of a cut-out product and the ``product_description`` built from them.

Everything said here is measured: the silhouette (aspect, solidity, symmetry,
holes, a gap between two legs, sleeves), the dominant colours (k-means in Lab,
named by the nearest entry of a small palette). Nothing is assumed about the
material or the brand.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# Named colours (sRGB); names are matched in Lab, so "navy" wins over "blue" only when it is closer.
COLOUR_NAMES: dict[str, tuple[int, int, int]] = {
    "black": (20, 20, 22),
    "charcoal": (60, 62, 66),
    "grey": (128, 128, 128),
    "light grey": (200, 200, 200),
    "white": (248, 248, 246),
    "cream": (242, 234, 212),
    "beige": (214, 196, 164),
    "khaki": (176, 160, 110),
    "brown": (110, 70, 40),
    "tan": (190, 140, 90),
    "red": (200, 30, 40),
    "burgundy": (110, 20, 40),
    "pink": (240, 150, 180),
    "light pink": (246, 200, 210),
    "coral": (248, 120, 100),
    "orange": (240, 130, 30),
    "mustard": (210, 170, 40),
    "yellow": (245, 220, 50),
    "olive": (110, 110, 40),
    "green": (40, 150, 60),
    "dark green": (20, 80, 40),
    "mint": (170, 230, 200),
    "teal": (20, 130, 130),
    "turquoise": (60, 200, 200),
    "light blue": (150, 190, 230),
    "blue": (40, 90, 200),
    "denim blue": (70, 100, 140),
    "navy": (25, 35, 80),
    "purple": (110, 50, 150),
    "lavender": (190, 170, 225),
    "magenta": (200, 40, 140),
}


def _lab(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.asarray(rgb, np.float32).reshape(-1, 1, 3) / 255, cv2.COLOR_RGB2Lab).reshape(-1, 3)


_NAMES = list(COLOUR_NAMES)
_NAME_LAB = _lab(np.array(list(COLOUR_NAMES.values())))


@dataclass
class PaletteColour:
    rgb: tuple[int, int, int]
    lab: tuple[float, float, float]
    share: float  # fraction of the product's pixels
    name: str

    @property
    def chroma(self) -> float:
        return float(np.hypot(self.lab[1], self.lab[2]))

    @property
    def hue(self) -> float:
        """Hue angle in degrees (Lab)."""
        return float(np.degrees(np.arctan2(self.lab[2], self.lab[1])) % 360)


@dataclass
class Measurements:
    aspect: float  # height / width of the product's bounding box
    fill: float  # product area / bounding-box area
    solidity: float  # product area / convex-hull area
    symmetry: float  # IoU of the silhouette with its mirror image
    holes: int  # interior openings
    two_legs: bool  # a background gap between two legs in the lower part
    sleeves: bool  # the upper part much wider than the middle
    widening: float  # width near the bottom / width at a third of the height
    palette: list[PaletteColour]
    detail: float  # mean gradient energy inside the product (texture, print)
    category: str


def name_colour(rgb: tuple[int, int, int] | np.ndarray) -> str:
    d = np.linalg.norm(_NAME_LAB - _lab(np.asarray(rgb))[0], axis=1)
    return _NAMES[int(np.argmin(d))]


def palette(rgb: np.ndarray, alpha: np.ndarray, k: int = 5) -> list[PaletteColour]:
    """Dominant product colours, largest share first (k-means in Lab on solid product pixels)."""
    pix = rgb[alpha > 0.9]
    if len(pix) == 0:
        pix = rgb[alpha > 0.5]
    rng = np.random.default_rng(0)  # deterministic: the same photo gives the same description
    if len(pix) > 6000:
        pix = pix[rng.choice(len(pix), 6000, replace=False)]
    lab = _lab(pix).astype(np.float32)
    k = max(1, min(k, len(lab)))
    cv2.setRNGSeed(0)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 30, 0.5)
    _, labels, centres = cv2.kmeans(lab, k, None, criteria, 2, cv2.KMEANS_PP_CENTERS)
    counts = np.bincount(labels.ravel(), minlength=k)
    out = []
    for i in np.argsort(-counts):
        c_rgb = np.clip(cv2.cvtColor(centres[i].reshape(1, 1, 3), cv2.COLOR_Lab2RGB).reshape(3) * 255, 0, 255)
        rgb_t = tuple(int(round(v)) for v in c_rgb)
        out.append(
            PaletteColour(
                rgb=rgb_t, lab=tuple(float(v) for v in centres[i]), share=counts[i] / len(lab), name=name_colour(rgb_t)
            )
        )
    return out


def _width_at(mask: np.ndarray, frac: float) -> int:
    """Extent (first to last product pixel) of the row at ``frac`` of the height."""
    row = mask[min(mask.shape[0] - 1, int(frac * mask.shape[0]))]
    xs = np.nonzero(row)[0]
    return int(xs[-1] - xs[0] + 1) if xs.size else 0


def measure(rgb: np.ndarray, alpha: np.ndarray) -> Measurements:
    """Shape and colour measurements of a cut-out product (rgb/alpha cropped or not)."""
    mask = alpha > 0.5
    ys, xs = np.nonzero(mask)
    m = mask[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    h, w = m.shape
    area = float(m.sum())
    contours, _ = cv2.findContours(m.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    hull_area = cv2.contourArea(cv2.convexHull(np.concatenate(contours)))
    solidity = area / max(hull_area, 1.0)
    mirror = m[:, ::-1]
    symmetry = float((m & mirror).sum() / max(1, (m | mirror).sum()))

    n, labels = cv2.connectedComponents((~m).astype(np.uint8), connectivity=4)
    border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    holes = len(set(range(1, n)) - set(border.tolist()))
    # Some holes are tiny (a buttonhole, a lace gap): count only those worth mentioning.
    if holes:
        sizes = np.bincount(labels.ravel(), minlength=n)
        holes = sum(1 for i in range(1, n) if i not in set(border.tolist()) and sizes[i] > 0.005 * area)

    # Two legs: most rows of the lower fifth cross the product twice, with background between.
    lower = m[int(0.8 * h) :].astype(np.int8)
    runs = (np.diff(lower, axis=1) == 1).sum(axis=1) + lower[:, 0]
    two_legs = bool(lower.size and np.mean(runs == 2) > 0.7)
    upper_w = max(_width_at(m, f) for f in (0.2, 0.3))
    mid_w = _width_at(m, 0.6)
    sleeves = upper_w > 1.35 * max(mid_w, 1)
    widening = _width_at(m, 0.9) / max(_width_at(m, 0.33), 1)

    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1)
    inner = cv2.erode(mask.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    detail = float(np.sqrt(gx * gx + gy * gy)[inner].mean()) if inner.any() else 0.0

    aspect = h / w
    if two_legs and aspect > 1.4:
        category = "trouser-like silhouette with two legs"
    elif sleeves and aspect < 1.6:
        category = "top-like silhouette with sleeves"
    elif aspect > 1.6 and widening > 1.15 and solidity > 0.7:
        category = "dress-like silhouette widening to the hem"
    elif holes and solidity > 0.6:
        category = "object with a handle or opening"
    elif solidity > 0.9 and aspect > 1.8:
        category = "upright bottle-like shape"
    elif solidity > 0.9:
        category = "compact solid shape"
    elif solidity < 0.75:
        category = "irregular, garment-like silhouette"
    else:
        category = "rounded silhouette"
    return Measurements(
        aspect=aspect,
        fill=area / (h * w),
        solidity=solidity,
        symmetry=symmetry,
        holes=holes,
        two_legs=two_legs,
        sleeves=sleeves,
        widening=widening,
        palette=palette(rgb, alpha),
        detail=detail,
        category=category,
    )


def describe(m: Measurements, scene_names: list[str]) -> str:
    """One sentence from the measurements, e.g. "Tall navy and white product, ...". Never a constant."""
    if m.aspect > 1.3:
        shape = "Tall"
    elif m.aspect < 0.77:
        shape = "Wide"
    else:
        shape = "Compact"
    names: list[str] = []
    shares: dict[str, float] = {}
    for c in m.palette:
        shares[c.name] = shares.get(c.name, 0.0) + c.share
    for name, share in sorted(shares.items(), key=lambda kv: -kv[1]):
        if share >= 0.12 and len(names) < 3:
            names.append(name)
    colours = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    strong = sum(1 for s in shares.values() if s >= 0.08)
    surface = "multicoloured/patterned" if strong >= 4 or m.detail > 40 else "mostly solid-coloured"
    parts = [f"{shape} {colours} product, {m.category}"]
    parts.append(f"height {m.aspect:.2f}x width, {m.fill:.0%} of its bounding box filled, {surface}")
    if m.holes:
        parts.append(f"{m.holes} opening{'s' if m.holes > 1 else ''} through it")
    if m.symmetry > 0.9:
        parts.append("left-right symmetric")
    scenes = ", ".join(s.replace("_", " ") for s in scene_names)
    return "; ".join(parts) + f". Catalog set of {len(scene_names)}: {scenes}."
