"""Compose: put the warped garment into the photo.

Order of work, all on the person photo's pixel grid, inside the box that holds the
new garment and the old one:
1. Layer order: the new garment goes over the body; what stays in front of it (hair,
   face, hands, arms...) is the garment category's call.
2. The old garment where the new one does not cover it is replaced: by skin where the
   category says the body is bare, by the surroundings (inpainting at low resolution)
   elsewhere.
3. The photo's shading and folds carry onto the new fabric: the high-pass of the old
   garment's luminance multiplies the new garment's colour.
4. Edges are feathered; every pixel outside the edited region stays byte-identical.

Below the composition itself are the tools the categories use to decide (old straps,
seams between pieces, an old dress below a new top's hem, where uncovered trunk is skin).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from imaging.masks import bounding_box, union
from imaging.masks import feather as feathered
from imaging.types import Box

from .body import Body, arm_reach, body_core, depth_below_shoulders, off_axis, shoulder_band, shoulder_box
from .garment_model import GarmentCategory
from .skin import SMOOTH_SKIN, SkinTone, fine_texture, sample_skin, skin_layer, skin_like
from .warp import WarpResult


@dataclass
class Composite:
    image: np.ndarray  # HxWx3 uint8
    edited_mask: np.ndarray  # HxW bool: the only pixels that may differ from the input
    garment_alpha: np.ndarray  # HxW float32: the new garment as seen (after occlusion)
    revealed: np.ndarray  # HxW bool: old garment uncovered and filled
    shading: np.ndarray  # HxW float32: the multiplier applied to the new fabric
    skin: np.ndarray | None = None  # HxW bool: uncovered pixels painted as skin (a subset of ``revealed``)
    in_front: np.ndarray | None = None  # HxW bool: the person's parts kept in front of the new garment's body piece
    old: np.ndarray | None = None  # HxW bool: the old garment(s) the new one replaces
    # HxW bool: pixels about the shoulders the result still shows in the old top's colours (see ``old_top_left``)
    old_top_left: np.ndarray | None = None


def old_garment(regions: dict[str, np.ndarray], replaces: tuple[str, ...]) -> np.ndarray:
    """The old garment to replace, less stray specks the person analysis mislabelled inside the
    head (an earring, a hair clip): a piece much smaller than the garment's main body whose
    surroundings are mostly face, hair or neck is not the garment, and must stay as it is."""
    old = union(regions, *replaces)
    head = union(regions, "face_hair_neck")
    if not old.any() or not head.any():
        return old
    n, labels, stats, _ = cv2.connectedComponentsWithStats(old.astype(np.uint8), connectivity=8)
    if n <= 2:
        return old
    largest = int(stats[1:, cv2.CC_STAT_AREA].max())
    for i in range(1, n):
        if stats[i, cv2.CC_STAT_AREA] >= 0.03 * largest:
            continue
        x, y, bw, bh = stats[i, :4]
        y0, y1, x0, x1 = max(0, y - 2), y + bh + 2, max(0, x - 2), x + bw + 2
        piece = labels[y0:y1, x0:x1] == i
        rim = cv2.dilate(piece.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool) & ~piece
        if head[y0:y1, x0:x1][rim].mean() > 0.5:
            old[y0:y1, x0:x1] &= ~piece
    return old


def old_bottoms(person_rgb: np.ndarray, regions: dict[str, np.ndarray], body: Body, tone: SkinTone) -> np.ndarray:
    """The old lower garment (trousers, a skirt, a dress's skirt) that a one-piece replaces: the lower
    body's pixels that are not bare skin (of the person's skin ``tone``), down to a little above the
    ankles (the shoes stay)."""
    lower = union(regions, "lower_body")
    if not lower.any():
        return lower
    kp = body.kp
    # (Not every skin-coloured pixel: a leopard print's tan spots stayed in the made legs and arms.)
    cloth = lower & ~bare_skin(person_rgb, lower, tone, body)
    if "l_knee" in kp and "l_ankle" in kp and "r_knee" in kp and "r_ankle" in kp:
        # Above the line 80% of the way from the knees to the ankles: below it lie the feet and shoes.
        depth = depth_below_shoulders(body)
        mid_sh = (kp["l_shoulder"] + kp["r_shoulder"]) / 2
        stop = max(
            float((kp[f"{s}_knee"] + 0.8 * (kp[f"{s}_ankle"] - kp[f"{s}_knee"]) - mid_sh) @ body.d) for s in "lr"
        )
        cloth &= depth < stop
    # Specks (a shadow, a bag strap) are no garment; its soft rim just outside the person's outline is.
    cloth = cv2.morphologyEx(cloth.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    rim = cv2.dilate(cloth, np.ones((7, 7), np.uint8)).astype(bool) & ~lower & ~skin_like(person_rgb)
    return cloth.astype(bool) | (rim & ~union(regions, "hands", "arms", "face_hair_neck", "upper_garment"))


def legs_under(
    person_rgb: np.ndarray, revealed: np.ndarray, regions: dict[str, np.ndarray], reach: np.ndarray, band: int
) -> np.ndarray:
    """Where the legs lie inside the uncovered old bottoms: each row takes the columns of the real
    leg skin nearest below it (carried up from where the legs show), so the made legs follow their
    outline; rows with no bare leg below them fall back to the legs' anatomical width. ``band``: rows
    of real leg pooled (the hem's shadow leaves the first ones only partly skin-coloured)."""
    real = union(regions, "lower_body") & skin_like(person_rgb) & ~revealed & (reach < 1.5)
    rows = np.flatnonzero(revealed.any(axis=1))
    zone = revealed & (reach < 1.0)
    if rows.size == 0:
        return zone
    h = revealed.shape[0]
    carried = None
    for y in range(h - 1, int(rows[0]) - 1, -1):
        if real[y].sum() >= 4:
            pooled = real[y : y + band].any(axis=0)
            # Closed across small gaps (a shadow down the shin), not across the gap between the legs.
            carried = cv2.morphologyEx(pooled.astype(np.uint8)[None], cv2.MORPH_CLOSE, np.ones((1, 9), np.uint8))[0] > 0
        if carried is not None and revealed[y].any():
            zone[y] = revealed[y] & carried
    return zone


def replaced_garment(
    person_rgb: np.ndarray, regions: dict[str, np.ndarray], body: Body, category: GarmentCategory, tone: SkinTone
) -> np.ndarray:
    """Every old garment the new one replaces: its own kind, and for a one-piece the old bottoms too.
    Bare legs in the lower body (told by the person's skin ``tone``) are the person, not garment: they
    stay wherever the new one leaves them."""
    old = old_garment(regions, category.replaces)
    if "lower_body" in category.replaces:
        old &= ~bare_skin(person_rgb, union(regions, "lower_body"), tone, body)
        # The old garment's soft edge just outside the person's mask goes with it (left, it drew a dark
        # dotted line along the new garment's outline).
        rim = cv2.dilate(old.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
        old |= rim & union(regions, "background")
    if getattr(category, "replaces_bottoms", False):
        old = old | old_bottoms(person_rgb, regions, body, tone)
    return old


def bare_skin(person_rgb: np.ndarray, region: np.ndarray, tone: SkinTone, body: Body) -> np.ndarray:
    """The bare skin inside ``region`` (legs below a skirt or shorts): smooth skin-coloured pixels near
    the person's own skin chroma, in pieces as large as a limb; a print's skin-coloured specks, a
    skin-toned check and beige cloth a little off the skin's hue are not."""
    found = bounding_box(region)
    out = np.zeros_like(region)
    if found is None or tone.samples == 0:
        return out
    crop = found.slices
    lab = cv2.cvtColor(person_rgb[crop].astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    chroma = np.linalg.norm(lab[..., 1:] - tone.lab[1:], axis=2)
    coloured = region[crop] & skin_like(person_rgb[crop]) & (chroma < 10.0)
    skin = coloured & (fine_texture(person_rgb[crop]) < SMOOTH_SKIN)
    sw = body.shoulder_width
    k = max(3, int(0.04 * sw) | 1)
    core = cv2.morphologyEx(skin.astype(np.uint8), cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(core, connectivity=8)
    big = np.flatnonzero(stats[1:, cv2.CC_STAT_AREA] >= (0.12 * sw) ** 2) + 1
    if big.size == 0:
        return out
    # Back to the skin's own outline (the opening rounded it): the skin pieces that hold a large core.
    _, pieces = cv2.connectedComponents(skin.astype(np.uint8), connectivity=8)
    keep = np.unique(pieces[np.isin(labels, big)])
    limbs = np.isin(pieces, keep[keep > 0])
    # The limbs' outline, where the backdrop's edge makes the finest detail strong, is skin too.
    out[crop] = limbs | (cv2.dilate(limbs.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool) & coloured)
    return out


def tucked_one_piece(regions: dict[str, np.ndarray], body: Body, garment_alpha: np.ndarray) -> dict[str, np.ndarray]:
    """Regions for new bottoms on a person in a one-piece (a dress): the old garment below the new
    waistband becomes lower body, to be covered by the bottoms or filled; above it, it stays as a top
    tucked into them. Without this a dress's skirt stayed beside the new trousers and its hips hung
    over them. The person's pixels beside the trunk that no region holds (a full skirt's flare at the
    hips) count too."""
    shown = garment_alpha > 0.5
    if not body.one_piece or not shown.any():
        return regions
    sw = body.shoulder_width
    depth = depth_below_shoulders(body)
    band_top = float(np.percentile(depth[shown], 0.5))
    below = depth > band_top + 0.02 * sw
    person = ~union(regions, "background")
    labelled = union(regions, "face_hair_neck", "hands", "arms", "upper_garment", "torso_skin", "lower_body")
    # The arms' capsules hanging beside the hips hold the dress too (as "sleeves"): only a real sleeve,
    # one that runs on down the forearm to the wrist, within the arm's width, stays the arm.
    reach = arm_reach(body)
    sleeves = union(regions, "sleeves")
    kept = union(regions, "arm_skin", "hands")
    yy, xx = np.ogrid[0 : body.shape[0], 0 : body.shape[1]]
    for side in ("l", "r"):
        wrist = body.kp[f"{side}_wrist"]
        to_wrist = np.hypot(xx - wrist[0], yy - wrist[1])
        if (sleeves & (to_wrist < 0.2 * sw) & (reach < 0.6)).sum() > 0.1 * (0.2 * sw) ** 2:
            kept |= sleeves & (reach < 1.0) & (to_wrist < 1.2 * sw)
    moved = (union(regions, "upper_garment") | (person & ~labelled)) & below & ~kept
    if not moved.any():
        return regions
    out = dict(regions)
    for name in ("upper_garment", "sleeves", "arms"):
        if name in out:
            out[name] = out[name] & ~moved
    out["lower_body"] = out["lower_body"] | moved
    return out


# How far above the shoulder line (in shoulder widths) a top's shoulder or strap may rise; hair reaches higher.
SHOULDERS_TOP = 0.35


def old_top_at_shoulders(person_rgb: np.ndarray, regions: dict[str, np.ndarray], body: Body) -> dict[str, np.ndarray]:
    """Regions with the old top's pieces the person analysis counted as head or arm skin (it cuts the
    top off at the shoulder line; a T-shirt's shoulders and a top's straps rise above it) moved into
    ``upper_garment``.

    A piece is of the old top when its colour is one of the old top's colours near the shoulders
    (see ``_top_colours``), it lies about the shoulder line and it touches the old top. Hair of the
    same colour (a dark top on dark hair) is told apart by where it lies: it hangs from the head,
    so it reaches up above the shoulders, where no top's shoulder or strap does."""
    top = regions.get("upper_garment")
    if top is None or top.sum() < 200:
        return regions
    sw = body.shoulder_width
    depth = depth_below_shoulders(body)
    head = union(regions, "face_hair_neck", "arm_skin")
    band = head & ~top & (depth > -SHOULDERS_TOP * sw) & (depth < 0.3 * sw)
    if bounding_box(band) is None:
        return regions
    colours = _top_colours(person_rgb, top, regions, depth, sw, exclude=band)
    if colours is None:
        return regions
    # Only the head and the band matter (the hair is recognised by the head it hangs from).
    found = bounding_box(head & (depth < 0.3 * sw))
    assert found is not None  # (it holds the band)
    box = found.padded(3, *top.shape)
    crop = box.slices
    lab = _lab(person_rgb[crop])
    like = _like_top(lab, colours) & head[crop] & ~top[crop]
    hair = hair_among(lab, like, depth[crop], sw, colours, mouth_depth(body))
    cand = band[crop] & like & ~hair
    cand = cv2.morphologyEx(cand.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    n, labels = cv2.connectedComponents(cand, connectivity=8)
    touch = cv2.dilate(top[crop].astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    keep = np.unique(labels[touch & (cand > 0)])
    pieces = np.isin(labels, keep[keep > 0])
    # The top's edge (along the shoulders, the old neckline) mixes its colour with the skin's over a
    # pixel or two: left, it drew a thin line of the old top there. Those beside it that are nearer
    # the top's colour than the skin's go with it.
    k = max(3, int(0.015 * sw) | 1)
    edge = cv2.dilate((top[crop] | pieces).astype(np.uint8), np.ones((k, k), np.uint8)) > 0
    edge &= band[crop] & ~hair & _like_top(lab, colours, within=np.inf, skin_margin=1.0)
    moved = np.zeros_like(top)
    moved[crop] = pieces | edge
    if not moved.any():
        return regions
    out = dict(regions)
    out["upper_garment"] = top | moved
    for name in ("face_hair_neck", "arm_skin"):
        if name in out:
            out[name] = out[name] & ~moved
    return out


def old_top_rim(regions: dict[str, np.ndarray], body: Body) -> dict[str, np.ndarray]:
    """Regions with the old top's soft rim just outside the person's outline (a pixel or two that mix
    its colour with the backdrop's) moved from ``background`` into ``upper_garment``: left as it was
    beside the new garment or the made skin, it drew the old top's outline there (a white line along
    the shoulders of a white T-shirt taken away)."""
    top = union(regions, "upper_garment", "sleeves")
    background = regions.get("background")
    if background is None or not top.any():
        return regions
    k = max(3, int(0.015 * body.shoulder_width) | 1)
    rim = cv2.dilate(top.astype(np.uint8), np.ones((k, k), np.uint8)).astype(bool) & background
    if not rim.any():
        return regions
    out = dict(regions)
    out["upper_garment"] = regions["upper_garment"] | rim
    out["background"] = background & ~rim
    return out


@dataclass(frozen=True)
class TopColours:
    """The old top's colours near the shoulders (Lab), how far a pixel may be from one of them, the
    person's skin colour (a pixel nearer that than half as far is skin, not top) and the hair's."""

    refs: np.ndarray  # (K, 3)
    radius: float
    skin: np.ndarray  # (3,)
    hair: np.ndarray | None = None  # (3,): the hair's colour, where it is measured and none of the top's


def _top_colours(
    person_rgb: np.ndarray,
    top: np.ndarray,
    regions: dict[str, np.ndarray],
    depth: np.ndarray,
    sw: float,
    exclude: np.ndarray | None = None,
) -> TopColours | None:
    """The old top's colours: its median, and the main colours of its part near the shoulders (a
    beige dress's black straps, a T-shirt's contrasting shoulder seams), each within a few robust
    deviations of the top's colour spread. Colours too near the skin's are dropped (colour cannot
    tell the two apart there); None when none is left or the skin cannot be measured.
    ``exclude``: pixels not to measure the skin on (those to be judged)."""
    # Measured on every other row and column: colours need no more, and it is four times faster.
    around = union(regions, "face_hair_neck", "arm_skin")
    if exclude is not None:
        around &= ~exclude
    head = union(regions, "face_hair_neck")[::2, ::2]
    person_rgb, top, depth, around = person_rgb[::2, ::2], top[::2, ::2], depth[::2, ::2], around[::2, ::2]
    px = _lab(person_rgb[top])
    ref = np.median(px, axis=0)
    spread = float(np.linalg.norm(1.4826 * np.median(np.abs(px - ref), axis=0)))
    # A printed top's spread is wide: capped, so that skin never falls inside it.
    radius = float(np.clip(3.0 * spread, 8.0, 18.0))
    rgb_around = person_rgb[around]
    skin_px = _lab(rgb_around[skin_like(rgb_around[None])[0]]) if len(rgb_around) else np.zeros((0, 3))
    if len(skin_px) < 15:
        return None
    skin_ref = np.median(skin_px, axis=0)
    refs = [ref]
    near = px[depth[top] < 0.3 * sw]
    if len(near) >= 15:
        if len(near) > 3000:
            near = near[np.random.default_rng(0).choice(len(near), 3000, replace=False)]
        criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 1.0)
        k = 3
        _, labels, centres = cv2.kmeans(
            np.ascontiguousarray(near, np.float32), k, np.empty((0, 1), np.int32), criteria, 2, cv2.KMEANS_PP_CENTERS
        )
        # A colour counts when it covers a real share there (a strap does; a shadow's fringe does not).
        share = np.bincount(labels.ravel(), minlength=k) / len(labels)
        refs += [c for c, s in zip(centres, share, strict=True) if s > 0.1]
    kept = [r for r in refs if np.linalg.norm(skin_ref - r) >= 2 * radius]
    if not kept:
        return None  # a skin-coloured top
    # The hair: what is not skin in the head well above the shoulders.
    hair = None
    if head.any():
        rgb_head = person_rgb[head & (depth < -SHOULDERS_TOP * sw)]
        hair_px = _lab(rgb_head[~skin_like(rgb_head[None])[0]]) if len(rgb_head) else np.zeros((0, 3))
        if len(hair_px) >= 15:
            hair = np.median(hair_px, axis=0).astype(np.float32)
            if min(float(np.linalg.norm(hair - r)) for r in kept) < radius:
                hair = None  # of the top's colour: only where it lies tells it apart
    return TopColours(refs=np.array(kept, np.float32), radius=radius, skin=skin_ref.astype(np.float32), hair=hair)


def _lab(rgb: np.ndarray) -> np.ndarray:
    """Float Lab (L 0..100) of an RGB uint8 image, or of an (N, 3) list of pixels (then (N, 3))."""
    flat = rgb.ndim == 2
    if rgb.size == 0:
        return np.zeros((*rgb.shape[:-1], 3), np.float32)
    image = rgb[:, None] if flat else rgb
    lab = cv2.cvtColor(np.ascontiguousarray(image, np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    return lab[:, 0] if flat else lab


def _like_top(lab: np.ndarray, colours: TopColours, within: float = 1.0, skin_margin: float = 0.5) -> np.ndarray:
    """Pixels of one of the old top's colours (within ``within`` times its radius), and nearer it than
    ``skin_margin`` times their distance to the skin's colour (much nearer, by default)."""
    channels = cv2.split(lab)
    d2 = _top_dist2(channels, colours)
    return (d2 < (within * colours.radius) ** 2) & (d2 < skin_margin**2 * _dist2(channels, colours.skin))


def _top_dist2(channels: Sequence[np.ndarray], colours: TopColours) -> np.ndarray:
    """Squared Lab distance of every pixel (its channels, split) to the nearest of the old top's colours."""
    return np.minimum.reduce([_dist2(channels, ref) for ref in colours.refs])


def _dist2(channels: Sequence[np.ndarray], ref: np.ndarray) -> np.ndarray:
    """Squared Lab distance of every pixel (its channels, split) to ``ref``."""
    return sum(((c - float(r)) ** 2 for c, r in zip(channels, ref, strict=True)), np.zeros_like(channels[0]))


def hair_among(
    lab: np.ndarray, like: np.ndarray, depth: np.ndarray, sw: float, colours: TopColours, mouth: float | None = None
) -> np.ndarray:
    """The hair among ``like`` (pixels of the old top's colours within the head region). Hair of
    another colour than the top's is told by its colour: nearer the hair's than the top's. Hair of
    the top's colour (a dark top on dark hair) by where it lies: it hangs from the head, so its piece
    reaches up above the shoulders' band, where no top's shoulder or strap does; and, with ``mouth``
    (the mouth's depth below the shoulder line), up past the mouth: the raised shoulder of a person
    standing at an angle rises above the band, never to the face."""
    if colours.hair is not None:
        channels = cv2.split(lab)
        return like & (_dist2(channels, colours.hair) < _top_dist2(channels, colours))
    n, labels = cv2.connectedComponents(like.astype(np.uint8), connectivity=8)
    if n <= 1:
        return np.zeros_like(like)
    top_of = -SHOULDERS_TOP * sw if mouth is None else min(-SHOULDERS_TOP * sw, mouth)
    high = np.unique(labels[(labels > 0) & (depth < top_of)])
    return np.isin(labels, high)


def mouth_depth(body: Body) -> float | None:
    """The mouth's depth below the shoulder line (negative: above it), or None without mouth landmarks."""
    kp = body.kp
    if "l_mouth" not in kp or "r_mouth" not in kp:
        return None
    mid_sh = (kp["l_shoulder"] + kp["r_shoulder"]) / 2
    return float(((kp["l_mouth"] + kp["r_mouth"]) / 2 - mid_sh) @ body.d)


def old_top_left(
    person_rgb: np.ndarray,
    image: np.ndarray,
    regions: dict[str, np.ndarray],
    body: Body,
    alpha: np.ndarray,
    old: np.ndarray,
) -> np.ndarray:
    """Pixels about the shoulders that the result still shows in the old top's colours outside the new
    garment (an old T-shirt's shoulders beside new straps, old straps, an old sleeve's cap): what makes
    a result look edited. Judged on the result's colours, so whatever the composition did there (kept,
    inpainted from old fabric, missed) counts; hair of the same colour hanging from the head does not."""
    out = np.zeros_like(old)
    top = old & union(regions, "upper_garment", "sleeves")
    if top.sum() < 200:
        return out
    sw = body.shoulder_width
    colours = _top_colours(person_rgb, top, regions, depth_below_shoulders(body), sw, exclude=old)
    found = shoulder_box(body)
    if colours is None or found is None:
        return out
    # From the top of the image down to the band's foot: the hair that hangs into the band is
    # recognised by the head it hangs from.
    box = Box(found.x0, 0, found.x1, found.y1)
    near = body.cropped(box)
    sub = {k: v[box.slices] for k, v in regions.items()}
    person = union(sub, "face_hair_neck", "arms", "arm_skin", "sleeves", "upper_garment", "torso_skin")
    lab = _lab(image[box.slices])
    like = _like_top(lab, colours) & person & (alpha[box.slices] < 0.1)
    in_head = like & union(sub, "face_hair_neck") & ~old[box.slices]
    hair = hair_among(lab, in_head, depth_below_shoulders(near), sw, colours, mouth_depth(near))
    left = like & shoulder_band(near) & ~hair
    # Specks (a necklace's bead, noise) are no leftover.
    out[box.slices] = cv2.morphologyEx(left.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)) > 0
    return out


def compose(
    person_rgb: np.ndarray, regions: dict[str, np.ndarray], body: Body, warp: WarpResult, category: GarmentCategory
) -> Composite:
    """Compose inside the box that holds the new garment and the old one (plus a margin for the
    blurs); everything outside it is the input, untouched."""
    h, w = person_rgb.shape[:2]
    g_rgb, g_alpha, pieces = warp.layers((h, w))
    if "upper_garment" in category.replaces:
        regions = old_top_rim(old_top_at_shoulders(person_rgb, regions, body), body)
    if "lower_body" in category.replaces:
        regions = tucked_one_piece(regions, body, g_alpha)
    tone = sample_skin(person_rgb, regions, body)  # on the whole photo: the face may lie outside the box
    # On the whole photo too: bare legs running on past the box are told by their whole length.
    old = replaced_garment(person_rgb, regions, body, category, tone)
    found = bounding_box(old | (g_alpha > 0))
    if found is None:
        empty = np.zeros((h, w), bool)
        return Composite(
            person_rgb.copy(),
            empty,
            np.zeros((h, w), np.float32),
            empty,
            np.ones((h, w), np.float32),
            empty,
            empty,
            old,
        )
    box = found.padded(int(0.25 * body.shoulder_width) + 8, h, w)
    crop = box.slices
    sub = _compose_box(
        np.ascontiguousarray(person_rgb[crop]),
        {k: v[crop] for k, v in regions.items()},
        body.cropped(box),
        g_rgb[crop],
        {k: v[crop] for k, v in pieces.items()},
        category,
        tone,
        old[crop],
    )
    image = person_rgb.copy()
    image[crop] = sub.image
    edited = np.zeros((h, w), bool)
    edited[crop] = sub.edited_mask
    alpha = np.zeros((h, w), np.float32)
    alpha[crop] = sub.garment_alpha
    revealed = np.zeros((h, w), bool)
    revealed[crop] = sub.revealed
    shading = np.ones((h, w), np.float32)
    shading[crop] = sub.shading
    skin = np.zeros((h, w), bool)
    skin[crop] = sub.skin
    in_front = np.zeros((h, w), bool)
    in_front[crop] = sub.in_front
    # (On the whole photo: the hair hanging into the shoulders is told by the head above the box.)
    left = old_top_left(person_rgb, image, regions, body, alpha, old) if "upper_garment" in category.replaces else None
    return Composite(
        image=image,
        edited_mask=edited,
        garment_alpha=alpha,
        revealed=revealed,
        shading=shading,
        skin=skin,
        in_front=in_front,
        old=old,
        old_top_left=left,
    )


def _compose_box(
    person_rgb: np.ndarray,
    regions: dict[str, np.ndarray],
    body: Body,
    g_rgb: np.ndarray,
    pieces: dict[str, np.ndarray],
    category: GarmentCategory,
    tone: SkinTone,
    old: np.ndarray,
) -> Composite:
    """``old``: every old garment the new one replaces (``replaced_garment``), in the box."""
    h, w = person_rgb.shape[:2]
    sw = body.shoulder_width
    feather = max(0.6, 0.004 * sw)

    front = category.in_front(regions, body, feather)
    g_rgb, pieces = category.join_pieces(g_rgb, pieces, sw)

    # Visible garment alpha: the body piece behind what stays in front of it (a top's torso behind
    # the arms), the other pieces (sleeves) over the arms; all behind hair and hands.
    alpha: np.ndarray = np.zeros((h, w), np.float32)
    for name, a in pieces.items():
        a = a * (1 - (front.over_body_piece if name == category.body_piece else front.over_other_pieces))
        alpha = a + alpha * (1 - a)
    alpha = cv2.GaussianBlur(alpha, (0, 0), feather) if feather > 0 else alpha
    alpha = np.clip(alpha, 0, 1)

    # Old garment pixels the new one leaves uncovered.
    revealed = old & (alpha < 0.5)
    # The folds and light come from the old garment of the same kind (an old top under a new dress):
    # old trousers' darker denim would tint the new skirt.
    # (Bare legs under new trousers are no fabric: their shading drew ghost legs on it. Nor is a dress's
    # skirt any guide to trousers' folds: its check printed through, its hem drew a line across them.)
    if "lower_body" in category.replaces and body.one_piece:
        shading = np.ones((h, w), np.float32)
    else:
        # New bottoms reach past where the old ones ended (trousers below a skirt's hem): the old
        # fabric's light fades out over a few centimetres there instead of stopping in a line.
        fade = 0.06 * sw if "lower_body" in category.replaces else 2 * feather
        shading = fabric_shading(person_rgb, old_garment(regions, category.replaces) & old, sw, fade)
    shaded = np.clip(g_rgb * shading[..., None], 0, 255)
    base = person_rgb
    straps = category.leftovers(person_rgb, old, regions, alpha, body)
    if straps.any():
        # Grown in from the skin around the strap (not from the new garment, blended on top later).
        mask = cv2.dilate(straps.astype(np.uint8), np.ones((3, 3), np.uint8))
        base = cv2.inpaint(person_rgb, mask | (alpha > 0.5).astype(np.uint8), 3, cv2.INPAINT_TELEA)
        base = np.where(mask[..., None] > 0, base, person_rgb)
        straps = mask.astype(bool)
    out = base.astype(np.float32) * (1 - alpha[..., None]) + shaded * alpha[..., None]
    out8 = np.clip(out + 0.5, 0, 255).astype(np.uint8)

    # Uncovered old garment becomes either skin (arms, midriff, chest) or, elsewhere (an old
    # loose sleeve's edge, the flanks beside a narrower top), the surroundings grown into it.
    revealed, zone = category.uncovered(person_rgb, revealed, pieces, regions, body)
    skin_alpha = np.zeros((h, w), np.float32)
    holes = revealed
    if zone.any():
        # Inside the skin, away from its edge, the skin covers everything: no need to inpaint there.
        holes = revealed & ~cv2.erode(zone.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    if holes.any():
        # Grown only from what stays: the old garment under the skin-to-be is no source either. What
        # bottoms uncover lies behind the legs, so only the backdrop (clear of the person's soft outline)
        # is grown in: the top above them or the new fabric beside them smeared into it.
        unknown = revealed
        if getattr(category, "fills_from_background", False):
            person = ~union(regions, "background")
            unknown = revealed | cv2.dilate(person.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
        out8 = _inpaint(out8, holes, unknown)
    if zone.any():
        # Only the person's own skin regions guide the made skin's light (a beige backdrop is skin-coloured too).
        person_skin = union(regions, "face_hair_neck", "arms", "arm_skin", "torso_skin", "hands")
        # The bare legs too, for legs made where old trousers or a longer skirt were.
        person_skin |= union(regions, "lower_body") & skin_like(person_rgb) & ~old
        skin_rgb, skin_alpha = skin_layer(person_rgb, zone, old, tone, body, feather, person_skin)
        legs = zone & union(regions, "lower_body")
        if legs.any():
            skin_rgb = _legs_carried_up(person_rgb, skin_rgb, legs, revealed, person_skin, sw)
        a = (skin_alpha * (1 - alpha))[..., None]
        out8 = np.clip(out8 * (1 - a) + skin_rgb * a + 0.5, 0, 255).astype(np.uint8)
    edited = (
        (alpha > 1.0 / 512)
        | (skin_alpha > 1.0 / 512)
        | straps
        | cv2.dilate(revealed.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    )
    image = np.where(edited[..., None], out8, person_rgb)
    return Composite(
        image=image,
        edited_mask=edited,
        garment_alpha=alpha,
        revealed=revealed,
        shading=shading,
        skin=zone,
        in_front=front.over_body_piece > 0.5,
    )


def fabric_shading(person_rgb: np.ndarray, old: np.ndarray, sw: float, fade: float) -> np.ndarray:
    """Multiplier that carries the photo's folds and body shading onto the new fabric.

    The old garment's luminance, median-filtered so that thin print strokes, letters, lace and
    mesh vanish before the high-pass, at half resolution (folds are broad); deviations as
    large as a print's (tens of percent) fade out, so the old print does not ghost through.
    ``fade``: the blur (sigma, px) over which the transfer fades out at the old garment's outline.
    """
    h, w = old.shape
    lum8 = cv2.cvtColor(person_rgb, cv2.COLOR_RGB2GRAY)
    small = cv2.resize(lum8, (max(1, w // 2), max(1, h // 2)), interpolation=cv2.INTER_AREA)
    k = max(5, int(0.02 * sw) | 1)
    med = cv2.medianBlur(small, k).astype(np.float32) / 255.0
    eps = 0.06
    sigma_hp = max(2.0, 0.04 * sw)
    log_ratio = np.log((med + eps) / (cv2.GaussianBlur(med, (0, 0), sigma_hp) + eps))
    # A plain garment's folds vary its luminance by ~5-8%; a printed, sheer or patterned one far
    # more, and that variation is the pattern, not light: scale the transfer down accordingly.
    small_old = cv2.resize(old.astype(np.uint8), (small.shape[1], small.shape[0]), interpolation=cv2.INTER_NEAREST)
    # (Robust spread: a logo covering a small share of the garment does not make it "printed".)
    vals = log_ratio[small_old > 0]
    spread = float(1.4826 * np.median(np.abs(vals - np.median(vals)))) if vals.size else 0.0
    gain = float(np.clip(0.04 / max(spread, 1e-6), 0.15, 1.0))
    log_ratio = gain * np.clip(log_ratio * np.exp(-((log_ratio / 0.15) ** 2)), -0.2, 0.12)
    # The photo's light, kept even where the folds are turned down: the old garment's large-scale
    # luminance (its own pixels only, heavily blurred), relative to its median and compressed, so
    # that broad light and shadow fall on the new fabric without the old colour blocks showing.
    m = small_old.astype(np.float32)
    if m.any():
        sigma_lo = max(4.0, 0.06 * sw)
        # Measured on the ground fabric only: a print (letters, a logo, a dark panel), far from the
        # fabric's own colour, is left out and the blur fills in under it from the fabric around it
        # (clipped, a bold print's letters still ghosted through as light and shadow).
        small_rgb = cv2.resize(person_rgb, (small.shape[1], small.shape[0]), interpolation=cv2.INTER_AREA)
        ground = _ground_fabric(small_rgb, small_old > 0).astype(np.float32)
        g = m * ground
        if g.sum() >= 0.3 * m.sum():
            m = g
        lum = small.astype(np.float32)
        q_lo, q_hi = np.percentile(lum[m > 0], (10, 90))
        lum = np.clip(lum, q_lo, q_hi)
        low = cv2.GaussianBlur(lum * m, (0, 0), sigma_lo) / np.maximum(cv2.GaussianBlur(m, (0, 0), sigma_lo), 1e-3)
        ref = float(np.median(low[m > 0]))
        # A dark fabric's sheen is a large ratio of small values, not light: the ratio is taken over a
        # floor (about a sixth of white) that a light fabric hardly notices.
        floor = 40.0
        light = np.clip(0.5 * np.log((low + floor) / (ref + floor)), -0.2, 0.1)
        log_ratio = log_ratio + np.where(
            cv2.GaussianBlur(small_old.astype(np.float32), (0, 0), sigma_lo) > 0.05, light, 0.0
        )
    log_ratio = cv2.resize(log_ratio.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    weight = feathered(old, fade)
    return np.exp(log_ratio * weight).astype(np.float32)


def _ground_fabric(rgb: np.ndarray, old: np.ndarray) -> np.ndarray:
    """Pixels of ``old`` in the garment's own (dominant) colour: within a few robust deviations of its
    median Lab colour (at least 12 units), which a print's strokes and panels are not."""
    lab = cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    px = lab[old]
    if len(px) < 50:
        return old.copy()
    ref = np.median(px, axis=0)
    dist = np.linalg.norm(lab - ref, axis=2)
    spread = 1.4826 * float(np.median(dist[old]))
    return old & (dist < max(12.0, 3.0 * spread))


def _legs_carried_up(
    person_rgb: np.ndarray, skin_rgb: np.ndarray, legs: np.ndarray, revealed: np.ndarray, real: np.ndarray, sw: float
) -> np.ndarray:
    """Made legs continue the real ones below them: each column takes the colour of the bare leg just
    under the uncovered stretch (its light across the leg, which a flat tone lacks), smoothed along
    the row, with the photo's grain; columns with no bare leg below keep the made skin."""
    h, w = legs.shape
    out = np.asarray(skin_rgb, np.float32).copy()
    band = max(3, int(0.08 * sw))
    src = real & ~revealed
    rows = np.arange(h)[:, None]
    lowest = np.where(legs.any(axis=0), h - 1 - np.argmax(legs[::-1], axis=0), -1)
    colour = np.zeros((w, 3), np.float32)
    have = np.zeros(w, bool)
    for x in np.flatnonzero(lowest >= 0):
        y0 = int(lowest[x]) + 1
        ys = np.flatnonzero(src[y0 : y0 + 3 * band, x])[:band] + y0
        if ys.size >= 2:
            colour[x] = np.median(person_rgb[ys, x].astype(np.float32), axis=0)
            have[x] = True
    if not have.any():
        return skin_rgb
    k = max(3, int(0.03 * sw) | 1)
    weight = cv2.GaussianBlur(have.astype(np.float32)[None], (k, 1), 0)[0]
    colour = cv2.GaussianBlur((colour * have[:, None])[None], (k, 1), 0)[0] / np.maximum(weight[:, None], 1e-3)
    fill = legs & have[None, :] & (rows <= lowest[None, :])
    grain = np.random.default_rng(0).normal(0.0, 1.5, (h, w, 1)).astype(np.float32)
    carried = np.broadcast_to(colour[None], (h, w, 3)) + grain
    return np.where(fill[..., None], carried, out)


def _inpaint(image: np.ndarray, holes: np.ndarray, unknown: np.ndarray | None = None) -> np.ndarray:
    """``holes`` filled from the surroundings, at low resolution; ``unknown`` (a superset of ``holes``,
    default ``holes``) is every pixel not to grow from."""
    h, w = holes.shape
    unknown = holes if unknown is None else (unknown | holes)
    f = max(1, int(round(max(h, w) / 512)))
    small = cv2.resize(image, (w // f, h // f), interpolation=cv2.INTER_AREA)
    small_holes = cv2.resize(unknown.astype(np.uint8), (w // f, h // f), interpolation=cv2.INTER_NEAREST)
    small_holes = cv2.dilate(small_holes, np.ones((3, 3), np.uint8))
    filled = cv2.inpaint(small, small_holes, 5, cv2.INPAINT_TELEA)
    big = cv2.resize(filled, (w, h), interpolation=cv2.INTER_LINEAR)
    out = image.copy()
    out[holes] = big[holes]
    return out


# --------------------------------------------------------------------------- tools for the categories


def old_straps(person_rgb: np.ndarray, old: np.ndarray, head: np.ndarray, alpha: np.ndarray, body: Body) -> np.ndarray:
    """Thin strands of the old garment left above the new one at the neck and shoulders (a cami's
    strap the person analysis counted as neck or shoulder skin): thin (gone after an opening wider
    than a strap), much closer to the old garment's colour than their surroundings are, and next to
    the old or the new garment. Hair is thick and stays; so does anything far from the garment."""
    sw = body.shoulder_width
    if not old.any() or not head.any():
        return np.zeros_like(old)
    depth = depth_below_shoulders(body)
    band = head & (depth > -0.3 * sw) & (alpha < 0.5)
    if not band.any():
        return np.zeros_like(old)
    k = max(5, int(0.04 * sw) | 1)
    lab = cv2.cvtColor(person_rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    ref = np.median(lab[old], axis=0)
    # A strap is a pixel or two wide, so its edge pixels mix with the skin: compare each pixel with
    # its surroundings (a median wider than the strap) and keep those pulled well toward the old colour.
    local = cv2.cvtColor(cv2.medianBlur(person_rgb, 2 * k + 1).astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    dist, local_dist = np.linalg.norm(lab - ref, axis=2), np.linalg.norm(local - ref, axis=2)
    cand = (band & (dist < 0.7 * local_dist) & (local_dist - dist > 8.0)).astype(np.uint8)
    thin = cand & (cv2.morphologyEx(cand, cv2.MORPH_OPEN, np.ones((k, k), np.uint8)) == 0)
    if not thin.any():
        return np.zeros_like(old)
    # (Within a few pixels: right beside the garment the wide median is dark too, so the strap's
    # last pixels there are no candidates.)
    touch = cv2.dilate((old | (alpha >= 0.5)).astype(np.uint8), np.ones((2 * k + 1, 2 * k + 1), np.uint8))
    n, labels = cv2.connectedComponents(thin, connectivity=8)
    keep = np.unique(labels[(touch > 0) & (thin > 0)])
    return np.isin(labels, keep[keep > 0])


def fill_small_gaps(
    g_rgb: np.ndarray, pieces: dict[str, np.ndarray], sw: float
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Small holes enclosed by the new garment's pieces (where a sleeve meets the torso, the two
    warps can leave a sliver between them) would show the old garment or the background: fill
    them with the garment's colour grown in from around them, as part of the torso piece."""
    covered = np.zeros(g_rgb.shape[:2], np.float32)
    for a in pieces.values():
        covered = np.maximum(covered, a)
    solid = covered > 0.5
    box = bounding_box(solid)
    if box is None:
        return g_rgb, pieces
    x0, y0, x1, y1 = box
    sub = solid[y0:y1, x0:x1]
    flood = np.zeros((y1 - y0 + 2, x1 - x0 + 2), np.uint8)
    flood[1:-1, 1:-1] = sub
    cv2.floodFill(flood, None, (0, 0), 2)
    holes = flood[1:-1, 1:-1] == 0
    if not holes.any():
        return g_rgb, pieces
    n, labels, stats, _ = cv2.connectedComponentsWithStats(holes.astype(np.uint8), connectivity=4)
    small = np.flatnonzero(stats[1:, cv2.CC_STAT_AREA] <= (0.15 * sw) ** 2) + 1
    holes = np.isin(labels, small)
    if not holes.any():
        return g_rgb, pieces
    fill = cv2.dilate(holes.astype(np.uint8), np.ones((3, 3), np.uint8))  # the soft rim too
    rgb8 = np.clip(g_rgb[y0:y1, x0:x1] + 0.5, 0, 255).astype(np.uint8)
    grown = cv2.inpaint(rgb8, fill, 3, cv2.INPAINT_TELEA).astype(np.float32)
    g_rgb = g_rgb.copy()
    g_rgb[y0:y1, x0:x1] = np.where(fill[..., None] > 0, grown, g_rgb[y0:y1, x0:x1])
    name = "torso" if "torso" in pieces else next(iter(pieces))
    pieces = dict(pieces)
    piece = pieces[name].copy()
    piece[y0:y1, x0:x1] = np.maximum(piece[y0:y1, x0:x1], fill.astype(np.float32))
    pieces[name] = piece
    return g_rgb, pieces


def skin_zone(
    revealed: np.ndarray, pieces: dict[str, np.ndarray], regions: dict[str, np.ndarray], body: Body
) -> np.ndarray:
    """Uncovered old-garment pixels that must become skin: the arms (within their anatomical
    width), and the trunk above the new garment's neckline or below its hem (a shorter top
    bares the midriff). Gaps at the trunk's sides between the two are not skin."""
    if not revealed.any():
        return np.zeros_like(revealed)
    limbs = union(regions, "arms", "arm_skin", "sleeves")
    reach = arm_reach(body)
    arms = limbs & (reach < 1.0)
    # The trunk out to the person's own outline (not the straight sides of the joints' polygon, which
    # left a rectangle of skin with the background grown in beside it), but no further than a little
    # past the joints: a loose old garment's outline is wider than the body under it.
    core = body_core(body) | (body.torso & body_core(body, widen=0.12))
    # The neck's column above the shoulder line: an old collar there (relabelled garment by the
    # person analysis) above a lower new neckline is bare neck and chest.
    depth = depth_below_shoulders(body)
    lateral = off_axis(body)
    core |= (
        (lateral < 0.3 * body.shoulder_width)
        & (depth < 0.1 * body.shoulder_width)
        & (depth > -0.45 * body.shoulder_width)
    )
    shoulder_tops = np.zeros_like(revealed)
    if not any(name.endswith("sleeve") for name in pieces):
        # A sleeveless garment bares the shoulders' tops between the neck column and the arms (an old
        # T-shirt's shoulder outside a new strap): above the armpits that is the body, not a gap beside
        # it. (A sleeved one that stops short of them is a fit that missed: skin there looked pasted on.)
        shoulder_tops = (
            (lateral < 0.6 * body.shoulder_width)
            & (depth < 0.2 * body.shoulder_width)
            & (depth > -0.45 * body.shoulder_width)
        )
        core |= shoulder_tops
        # The shoulder cap is rounder than the arm's anatomical width: an old sleeve's top there, inside
        # the person's outline, is the deltoid (grown in from the backdrop it read as the old sleeve).
        # The extra width tapers off down to the armpits, so that the made arm has no step.
        cap = 0.35 * np.clip(1.0 - depth / (0.3 * body.shoulder_width), 0.0, 1.0)
        arms |= limbs & (reach < 1.0 + cap)
    torso_piece = pieces.get("torso")
    bare_trunk = core
    if torso_piece is not None:
        covered = (torso_piece > 0.5) & core
        if covered.any():
            top, hem = float(depth[covered].min()), float(np.percentile(depth[covered], 99.5))
            # Above the neckline column by column: straps reaching up to the shoulders must not stop
            # the chest between them from being skin. (Columns the new garment misses: its top.)
            has = covered.any(axis=0)
            first = np.where(has, np.argmax(covered, axis=0), 0)
            col_top = np.where(has, depth[first, np.arange(covered.shape[1])], top)
            bare_trunk = core & ((depth < np.maximum(col_top[None, :], top)) | (depth > hem))
            # The shoulders' tops beside a high neckline (columns the new garment misses) are bare too.
            bare_trunk |= shoulder_tops & ~has[None, :]
    return revealed & (arms | bare_trunk)


def dress_below_hem(
    person_rgb: np.ndarray,
    revealed: np.ndarray,
    pieces: dict[str, np.ndarray],
    regions: dict[str, np.ndarray],
    body: Body,
) -> np.ndarray:
    """Uncovered old garment below the new top's hem that is the same garment carrying on into
    the lower body (a dress, a jumpsuit): each piece of it that touches the lower body's region and
    matches the colour there (Lab distance under 12) is kept. A top ending above a skirt of another
    colour, or a bare midriff, is not matched and is filled as before."""
    out = np.zeros_like(revealed)
    torso_piece = pieces.get("torso")
    lower = union(regions, "lower_body")
    if torso_piece is None or not lower.any() or not revealed.any():
        return out
    covered = torso_piece > 0.5
    if not covered.any():
        return out
    depth = depth_below_shoulders(body)
    hem = (
        float(np.percentile(depth[covered & body_core(body)], 99.5))
        if (covered & body_core(body)).any()
        else float(depth[covered].max())
    )
    below = revealed & (depth > hem - 0.02 * body.shoulder_width)
    if not below.any():
        return out
    sw = body.shoulder_width
    lab = cv2.cvtColor(person_rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    # The lower body's colour just under the uncovered strip (within 0.3 shoulder widths of it).
    near = cv2.dilate(below.astype(np.uint8), np.ones((int(0.3 * sw) | 1,) * 2, np.uint8)).astype(bool) & lower
    if near.sum() < 20:
        return out
    ref = np.median(lab[near], axis=0)
    touch = cv2.dilate(lower.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    n, labels = cv2.connectedComponents(below.astype(np.uint8), connectivity=8)
    for i in range(1, n):
        piece = labels == i
        if (piece & touch).any() and np.linalg.norm(np.median(lab[piece], axis=0) - ref) < 12.0:
            out |= piece
    return out
