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
from scipy.ndimage import gaussian_filter1d

# Chromatic colour names (sRGB), matched in Lab with lightness weighted down (a shaded red stays
# red). Achromatic colours are named by lightness alone (see ``name_colour``), so a warm grey
# does not become "beige" and a print's dark grey is not "navy".
COLOUR_NAMES: dict[str, tuple[int, int, int]] = {
    "cream": (242, 234, 212),
    "beige": (214, 196, 164),
    "sand": (198, 176, 140),
    "camel": (190, 145, 95),
    "khaki": (176, 160, 110),
    "brown": (110, 70, 40),
    "chocolate": (70, 45, 30),
    "rust": (170, 75, 35),
    "red": (200, 30, 40),
    "burgundy": (110, 20, 40),
    "pink": (240, 150, 180),
    "light pink": (246, 200, 210),
    "fuchsia": (220, 40, 150),
    "coral": (248, 120, 100),
    "peach": (250, 190, 150),
    "orange": (240, 130, 30),
    "mustard": (210, 170, 40),
    "yellow": (245, 220, 50),
    "lemon": (250, 245, 150),
    "olive": (110, 110, 40),
    "sage": (160, 180, 140),
    "green": (40, 150, 60),
    "emerald": (20, 130, 90),
    "dark green": (20, 80, 40),
    "mint": (170, 230, 200),
    "teal": (20, 130, 130),
    "turquoise": (60, 200, 200),
    "light blue": (150, 190, 230),
    "sky blue": (100, 170, 230),
    "blue": (40, 90, 200),
    "royal blue": (40, 60, 170),
    "denim blue": (70, 100, 140),
    "navy": (25, 35, 80),
    "purple": (110, 50, 150),
    "plum": (100, 40, 80),
    "lavender": (190, 170, 225),
    "lilac": (200, 160, 210),
    "magenta": (200, 40, 140),
}
# Below this chroma (Lab) a colour is named as a grey by its lightness.
ACHROMATIC_CHROMA = 9.0
GREYS = ((20, "black"), (35, "charcoal"), (50, "dark grey"), (68, "grey"), (84, "light grey"), (93, "off-white"))


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
    sleeves: bool  # the upper part much wider than the middle (short sleeves)
    widening: float  # width near the bottom / width at a third of the height
    palette: list[PaletteColour]
    detail: float  # mean gradient energy inside the product (texture, print)
    category: str
    long_sleeves: bool = False  # rows of the middle cross sleeve, body, sleeve: sleeves hanging beside the body
    neckline: bool = False  # the top outline dips in the middle between two higher shoulders
    straps: bool = False  # the top rows are two narrow separate runs
    entropy: float = 0.0  # bits, of the named colours' shares
    stripes: str = ""  # "horizontal" / "vertical" when the lightness repeats regularly across the product
    garment: bool = False  # any garment cue above (sleeves, legs, neckline, straps)
    print_share: float = 0.0  # share of the product's area with strong local contrast (a print, not a button)
    fine_stripes: float = 0.0  # share of the product's area striped finely, in any direction (a shirting stripe)


def name_colour(rgb: tuple[int, int, int] | np.ndarray) -> str:
    lab = _lab(np.asarray(rgb))[0]
    # Dark colours carry little chroma in absolute terms (navy at L 20 has ~7): scale the limit with lightness.
    chroma = float(np.hypot(lab[1], lab[2]))
    if chroma < max(6.0, ACHROMATIC_CHROMA * min(1.0, float(lab[0]) / 50)):
        return next((name for top, name in GREYS if lab[0] < top), "white")
    # Hue first (CIE-style hue difference), then lightness and chroma at lower weight: a dull,
    # dark blue is still navy, not the nearer-in-Lab but lighter denim.
    c_names = np.hypot(_NAME_LAB[:, 1], _NAME_LAB[:, 2])
    dh = np.angle(np.exp(1j * (np.arctan2(_NAME_LAB[:, 2], _NAME_LAB[:, 1]) - np.arctan2(lab[2], lab[1]))))
    hue = 2 * np.sqrt(c_names * chroma) * np.abs(np.sin(dh / 2))
    d = hue + 0.5 * np.abs(_NAME_LAB[:, 0] - lab[0]) + 0.3 * np.abs(c_names - chroma)
    return _NAMES[int(np.argmin(d))]


def palette(rgb: np.ndarray, alpha: np.ndarray, k: int = 8) -> list[PaletteColour]:
    """Dominant product colours, largest share first (k-means in Lab on solid product pixels).

    Eight clusters, not five: with few clusters a busy print's centres fall
    between its colours and come out as greys. Clusters with the same name
    are merged (share-weighted), so the list holds distinct names.
    """
    pix = rgb[alpha > 0.9]
    if len(pix) == 0:
        pix = rgb[alpha > 0.5]
    rng = np.random.default_rng(0)  # deterministic: the same photo gives the same description
    if len(pix) > 8000:
        pix = pix[rng.choice(len(pix), 8000, replace=False)]
    lab = _lab(pix).astype(np.float32)
    k = max(1, min(k, len(lab)))
    cv2.setRNGSeed(0)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 30, 0.5)
    # (bestLabels is output only here: OpenCV allocates it; an empty array says so to the type stubs.)
    _, labels, centres = cv2.kmeans(lab, k, np.empty((0, 1), np.int32), criteria, 2, cv2.KMEANS_PP_CENTERS)
    counts = np.bincount(labels.ravel(), minlength=k).astype(np.float64)
    merged: dict[str, tuple[np.ndarray, float]] = {}
    for i in range(k):
        if counts[i] == 0:
            continue
        c_rgb = np.clip(cv2.cvtColor(centres[i].reshape(1, 1, 3), cv2.COLOR_Lab2RGB).reshape(3) * 255, 0, 255)
        name = name_colour(c_rgb)
        acc, n = merged.get(name, (np.zeros(3), 0.0))
        merged[name] = (acc + centres[i].astype(np.float64) * counts[i], n + counts[i])
    out = []
    for name, (acc, n) in merged.items():
        c_lab = (acc / n).astype(np.float32)
        c_rgb = np.clip(cv2.cvtColor(c_lab.reshape(1, 1, 3), cv2.COLOR_Lab2RGB).reshape(3) * 255, 0, 255)
        out.append(
            PaletteColour(
                rgb=(int(round(c_rgb[0])), int(round(c_rgb[1])), int(round(c_rgb[2]))),
                lab=(float(c_lab[0]), float(c_lab[1]), float(c_lab[2])),
                share=float(n / len(lab)),
                name=name,
            )
        )
    return sorted(out, key=lambda c: -c.share)


def colour_entropy(colours: list[PaletteColour]) -> float:
    """Shannon entropy (bits) of the named colours' shares: 0 for one colour, ~2.3 for five equal ones."""
    p = np.array([c.share for c in colours if c.share > 0], np.float64)
    p /= max(p.sum(), 1e-9)
    return float(-(p * np.log2(p)).sum())


def stripe_period(rgb: np.ndarray, mask: np.ndarray) -> tuple[str, float] | None:
    """("horizontal" | "vertical", period in px) when the product's lightness repeats regularly across it.

    The mean lightness of the product's rows (columns) is a 1-D signal; stripes
    make one frequency dominate its spectrum with a strong swing, along one axis
    only. Checks and repeated prints repeat along both axes or swing little.
    """
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    found: dict[str, tuple[float, float, float]] = {}  # axis name -> (energy share of the peak, swing, period)
    for axis, name in ((1, "horizontal"), (0, "vertical")):
        n = mask.sum(axis=axis)
        ok = n > 0.3 * max(1, n.max())
        if ok.sum() < 32:
            found[name] = (0.0, 0.0, 0.0)
            continue
        prof = (grey * mask).sum(axis=axis)[ok] / n[ok]
        prof = prof - gaussian_filter1d(prof, 12)  # remove slow shading
        power = np.abs(np.fft.rfft(prof * np.hanning(prof.size))) ** 2
        freqs = np.fft.rfftfreq(prof.size)
        band = (freqs > 1 / 80) & (freqs < 1 / 4)  # periods of 4-80 px
        if not band.any() or power[band].max() <= 0:
            found[name] = (0.0, 0.0, 0.0)
            continue
        i = int(np.argmax(np.where(band, power, 0)))
        # The peak and its neighbours hold most of the signal's energy: a regular repeat.
        share = float(power[max(0, i - 1) : i + 2].sum() / max(power[1:].sum(), 1e-9))
        found[name] = (share, float(prof.std()), float(1 / freqs[i]))
    for name, other in (("horizontal", "vertical"), ("vertical", "horizontal")):
        share, swing, period = found[name]
        other_share, other_swing, _ = found[other]
        if share > 0.6 and swing > 25 and (other_share < 0.3 or other_swing < 8):
            return name, period
    return None


# Local contrast (standard deviation of grey levels in a small window) that marks a print or a
# pattern: well above a knit's ribs or a fold's shading, below a print's edges.
PRINT_CONTRAST = 20.0
# A print covers at least this share of the product: a few buttons, a label or a zip do not.
PRINT_MIN_SHARE = 0.1


def print_share(grey: np.ndarray, inner: np.ndarray) -> float:
    """Share of the product's inner area whose neighbourhood has a print's contrast."""
    if not inner.any():
        return 0.0
    r = max(7, round(0.015 * max(grey.shape))) | 1
    mean = cv2.blur(grey, (r, r))
    sd = np.sqrt(np.maximum(cv2.blur(grey * grey, (r, r)) - mean * mean, 0))
    return float((sd[inner] > PRINT_CONTRAST).mean())


# Fine stripes: patches of this size (px) whose lightness is dominated by one spatial frequency with
# a period of 3-16 px and a swing (standard deviation) of at least FINE_STRIPE_SWING levels. Shirting
# stripes follow the fabric's folds and gathers, so they are found patch by patch, where one profile
# across the whole product washes them out. A knit's ribs repeat as regularly, with a smaller swing;
# an animal print's stripes are as contrasted but vary in width (their period is not kept).
STRIPE_PATCH = 48
FINE_STRIPE_SWING = 11.0
FINE_STRIPE_SHARE = 0.4


def fine_stripe_share(grey: np.ndarray, inner: np.ndarray) -> float:
    """Share of the product's whole patches striped finely and clearly (in any direction)."""
    p = STRIPE_PATCH
    h, w = grey.shape
    win = np.outer(np.hanning(p), np.hanning(p)).astype(np.float32)
    f = np.hypot(np.fft.fftfreq(p)[:, None], np.fft.rfftfreq(p)[None, :])
    band = (f >= 1 / 16) & (f <= 1 / 3)
    striped = total = 0
    periods: list[float] = []
    for y in range(0, h - p + 1, p):
        for x in range(0, w - p + 1, p):
            if inner[y : y + p, x : x + p].mean() < 0.98:
                continue
            total += 1
            patch = grey[y : y + p, x : x + p]
            patch = patch - patch.mean()
            if float(patch.std()) < FINE_STRIPE_SWING:
                continue
            power = np.abs(np.fft.rfft2(patch * win)) ** 2
            i, j = np.unravel_index(int(np.argmax(np.where(band, power, 0))), power.shape)
            peak = power[max(0, i - 1) : i + 2, max(0, j - 1) : j + 2].sum()
            # One frequency (and its neighbours, for a slightly curved stripe) holds much of the energy.
            if peak > 0.35 * (power.sum() - power[0, 0]):
                striped += 1
                periods.append(1 / f[i, j])
    if total < 8 or not periods:
        return 0.0
    # A woven stripe keeps its period across the garment; an animal print's stripes vary in width.
    q1, q3 = np.percentile(periods, [25, 75])
    if q3 - q1 > 0.25 * float(np.median(periods)):
        return 0.0
    return striped / total


def _width_at(mask: np.ndarray, frac: float) -> int:
    """Extent (first to last product pixel) of the row at ``frac`` of the height."""
    row = mask[min(mask.shape[0] - 1, int(frac * mask.shape[0]))]
    xs = np.nonzero(row)[0]
    return int(xs[-1] - xs[0] + 1) if xs.size else 0


def _runs(mask: np.ndarray) -> np.ndarray:
    """Number of separate product runs in each row."""
    m = mask.astype(np.int8)
    return (np.diff(m, axis=1) == 1).sum(axis=1) + m[:, 0]


def _silhouette_cues(m: np.ndarray) -> dict[str, bool]:
    """Garment cues from a silhouette normalised to 200 rows (runs per row, the top outline)."""
    h, w = m.shape
    # Gaps narrower than ~1 % of the width (a fold line, a cutout artefact) do not split a row.
    k = max(1, round(0.01 * w))
    m = cv2.morphologyEx(m.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((1, 2 * k + 1), np.uint8)).astype(bool)
    runs = _runs(m)
    mid = runs[int(0.35 * h) : int(0.75 * h)]
    lower = runs[int(0.6 * h) : int(0.97 * h)]
    top_rows = m[: max(2, int(0.06 * h))]
    # Straps: the top rows are two narrow pieces, each under an eighth of the width.
    straps = False
    if top_rows.any():
        r = top_rows[top_rows.shape[0] // 2]
        n, _, stats, _ = cv2.connectedComponentsWithStats(r.astype(np.uint8)[None], connectivity=4)
        widths = stats[1:, cv2.CC_STAT_WIDTH]
        straps = n - 1 == 2 and bool((widths < w / 8).all())
    # Neckline: across the middle fifth of the width the outline starts clearly lower than at the shoulders.
    cols = m.any(axis=0)
    first = np.where(cols, m.argmax(axis=0), h)
    centre = first[int(0.4 * w) : int(0.6 * w) + 1]
    sides = np.concatenate([first[int(0.1 * w) : int(0.35 * w)], first[int(0.65 * w) : int(0.9 * w)]])
    neckline = bool(centre.size and sides.size and np.median(centre) - np.percentile(sides, 25) > 0.04 * h)
    # Sleeves hanging down against the body to its hem (a blouse laid flat): one run through the
    # middle, but the cuffs stand apart from the hem at the bottom, and the silhouette is widest
    # in its lower half, where the sleeves flare (a stool or a table, on its legs, is widest at its top).
    bottom = runs[int(0.88 * h) : int(0.99 * h)]
    widths = m.sum(axis=1)
    cuffs = bool(
        bottom.size
        and np.mean(bottom >= 2) > 0.6
        and mid.size
        and np.mean(mid == 1) > 0.9
        and int(np.argmax(widths)) > 0.5 * h
    )
    return {
        "long_sleeves": bool(mid.size and np.mean(mid >= 3) > 0.5) or cuffs,
        "two_legs": bool(lower.size and np.mean(lower >= 2) > 0.6 and np.mean(runs[int(0.9 * h) :] >= 2) > 0.5),
        "straps": straps,
        "neckline": neckline,
    }


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

    small = cv2.resize(m.astype(np.uint8), (max(8, round(200 * w / h)), 200), interpolation=cv2.INTER_NEAREST) > 0
    cues = _silhouette_cues(small)
    two_legs = cues["two_legs"]
    upper_w = max(_width_at(m, f) for f in (0.2, 0.3))
    mid_w = _width_at(m, 0.6)
    sleeves = upper_w > 1.35 * max(mid_w, 1)
    widening = _width_at(m, 0.9) / max(_width_at(m, 0.33), 1)

    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1)
    inner = cv2.erode(mask.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    detail = float(np.sqrt(gx * gx + gy * gy)[inner].mean()) if inner.any() else 0.0
    colours = palette(rgb, alpha)
    crop = (slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1))
    stripes = stripe_period(rgb[crop], inner[crop])
    prints = print_share(grey[crop], inner[crop])
    fine = fine_stripe_share(grey[crop], inner[crop]) if not stripes else 0.0

    aspect = h / w
    # A neck: the top tenth much narrower than the widest row.
    widest = max(_width_at(m, f / 20) for f in range(1, 20))
    necked = _width_at(m, 0.08) < 0.6 * widest
    if two_legs and aspect > 1.4:
        category = "trouser-like silhouette with two legs" + (", flaring to the hem" if widening > 1.15 else "")
    elif cues["long_sleeves"] and aspect < 2.0:
        category = "top-like silhouette with long sleeves"
    elif sleeves and aspect < 1.6:
        category = "top-like silhouette with short sleeves"
    elif cues["straps"]:
        category = "sleeveless silhouette on two straps" + (", widening to the hem" if widening > 1.15 else "")
    elif aspect > 1.6 and widening > 1.15 and solidity > 0.7:
        category = "dress-like silhouette widening to the hem"
    elif cues["neckline"] and solidity > 0.6:
        category = "garment-like silhouette with a neckline"
    elif holes and solidity > 0.6:
        category = "object with a handle or opening"
    elif solidity > 0.9 and aspect > 1.8 and necked:
        category = "upright bottle-like shape with a neck"
    elif solidity > 0.9 and aspect < 1.8:
        category = "compact solid shape"
    elif solidity < 0.75:
        category = "irregular, garment-like silhouette"
    elif widening > 1.15:
        category = ("tall " if aspect > 1.8 else "") + "silhouette widening towards the bottom"
    elif widening < 0.87:
        category = ("tall " if aspect > 1.8 else "") + "silhouette tapering towards the bottom"
    else:
        category = ("tall, " if aspect > 1.8 else "") + "straight-sided silhouette"
    garment = two_legs or sleeves or any(cues.values()) or category.startswith("dress-like")
    return Measurements(
        aspect=aspect,
        fill=area / (h * w),
        solidity=solidity,
        symmetry=symmetry,
        holes=holes,
        two_legs=two_legs,
        sleeves=sleeves,
        widening=widening,
        palette=colours,
        detail=detail,
        category=category,
        long_sleeves=cues["long_sleeves"],
        neckline=cues["neckline"],
        straps=cues["straps"],
        entropy=colour_entropy(colours),
        stripes=stripes[0] if stripes else "",
        garment=garment,
        print_share=prints,
        fine_stripes=fine,
    )


def product_kind(m: Measurements) -> str:
    """What the silhouette says the product is, in a shopper's words (never a brand or a material)."""
    if m.two_legs and m.aspect > 1.4:
        return "flared trousers" if m.widening > 1.15 else "trousers"
    if m.long_sleeves and m.aspect < 2.0:
        return "long-sleeved top"
    if m.sleeves and m.aspect < 1.6:
        return "short-sleeved top"
    if m.straps:
        return "strappy dress" if m.aspect > 1.6 and m.widening > 1.15 else "strappy top"
    if m.category.startswith("dress-like"):
        return "dress"
    if m.neckline and m.solidity > 0.6:
        return "top" if m.aspect < 1.6 else "dress"
    if m.garment or m.category.startswith("irregular"):
        return "garment"
    if m.category.startswith("upright bottle"):
        return "bottle"
    if m.holes and m.solidity > 0.6:
        return "product with a handle"
    return "product"


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _article(phrase: str) -> str:
    """ "A navy top", "An off-white top", "Navy trousers" (a plural takes none)."""
    if phrase.split(" with ")[0].endswith("trousers"):
        return phrase[:1].upper() + phrase[1:]
    return ("An " if phrase[:1].lower() in "aeiou" else "A ") + phrase


def describe(m: Measurements) -> str:
    """``product_description``: plain sentences a shop could publish, e.g.
    "A lavender short-sleeved top with plum details. Colours: lavender and plum."

    Only what was measured: the kind of product from the silhouette, its colours by name, its
    pattern (stripes, fine stripes, a multicoloured print, a print covering a real share of it, not a
    few buttons) and notable details (sleeves, a flare, a
    handle). The figures themselves go to the debug output, not to shoppers.
    """
    names = _distinct([c for c in m.palette if c.share >= 0.12])[:3] or [m.palette[0].name]
    kind = product_kind(m)
    many = sum(1 for c in m.palette if c.share >= 0.06)
    main = np.array(m.palette[0].lab)
    accent = [c for c in m.palette[1:] if c.share >= 0.05 and np.linalg.norm(np.array(c.lab) - main) > 30]
    tall = "tall " if kind in ("bottle", "product") and m.aspect > 1.6 else ""
    if m.stripes:
        first = f"{_article(f'{tall}{names[0]} {kind}')} with {m.stripes} stripes"
        if len(names) > 1:
            first += f" in {_join(names[1:])}"
    elif m.fine_stripes >= FINE_STRIPE_SHARE:
        # Too fine for the palette to separate the stripes' colours: the ground colour only.
        first = f"{_article(f'{tall}{names[0]} {kind}')} with fine stripes"
    elif m.entropy >= 2.0 and many >= 4:
        # Many colours in comparable shares: a print. Its chromatic colours may each be small next
        # to a ground colour; the strongest are named so the print is not read as grey.
        strong = [c.name for c in m.palette if c.share >= 0.04 and c.chroma >= 15 and c.name not in names][:2]
        printed = names + strong
        chroma = {c.name: c.chroma for c in m.palette}
        if any(chroma.get(n, 0.0) >= 10 for n in printed):
            first = f"{_article(f'{tall}{kind}')} in a multicoloured print of {_join(printed)}"
        else:  # black, greys and white only: a print, but not a colourful one
            first = f"{_article(f'{tall}{kind}')} in a {_join(printed)} print"
    elif m.detail > 40 and m.print_share >= PRINT_MIN_SHARE:
        first = f"{_article(f'{tall}{names[0]} {kind}')} with a print"
        if len(names) > 1:
            first += f" in {_join(names[1:])}"
    elif accent and accent[0].name != names[0]:
        first = f"{_article(f'{tall}{names[0]} {kind}')} with {accent[0].name} details"
    else:
        first = _article(f"{tall}{names[0]} {kind}")
    sentences = [first + "."]
    if m.holes and kind == "product":
        # (Not on a garment: there an opening is the neck or a gap the cut-out left, not a feature.)
        sentences.append("It has an opening through it." if m.holes == 1 else f"It has {m.holes} openings through it.")
    named = [n for n in _distinct(m.palette) if n in first]
    if len(named) < 2:
        colours = _distinct([c for c in m.palette if c.share >= 0.05])[:3]
        if len(colours) > 1:
            sentences.append(f"Colours: {_join(colours)}.")
    return " ".join(sentences)


def _distinct(colours: list[PaletteColour]) -> list[str]:
    """The colours' names, leaving out one too close to a colour already named (white and off-white)."""
    kept: list[PaletteColour] = []
    for c in colours:
        if all(np.linalg.norm(np.array(c.lab) - np.array(k.lab)) > 12 for k in kept):
            kept.append(c)
    return [c.name for c in kept]
