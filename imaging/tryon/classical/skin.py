"""Skin: the person's skin colour model (to find bare skin) and skin made where a new garment uncovers the body.

Finding: a Gaussian in YCrCb chroma sampled from the face (cheeks between eyes and
mouth), or a generic skin range when the face is not usable. Making: the person's
measured tone (Lab), lit by the old garment's low-pass luminance and rounded toward
the limb's or trunk's edge, with grain as strong as the real skin's.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from imaging.masks import bounding_box, polygon, union

from .body import Body, arm_reach, off_axis
from .pose import MIN_VISIBILITY, Landmark


def skin_model(
    ycrcb: np.ndarray, mask: np.ndarray, kp: dict[str, np.ndarray], visibility: np.ndarray
) -> tuple[np.ndarray, np.ndarray, bool]:
    """(mean, inverse covariance) of skin CrCb from the face (cheeks between eyes and mouth), or a generic model."""
    h, w = mask.shape
    face_ids = [Landmark.NOSE, Landmark.LEFT_EYE, Landmark.RIGHT_EYE, Landmark.MOUTH_LEFT, Landmark.MOUTH_RIGHT]
    face_pts = np.array([kp[n] for n in ("nose", "l_eye", "r_eye", "l_mouth", "r_mouth")])
    usable = (visibility[face_ids] > MIN_VISIBILITY).all() and (
        (face_pts[:, 0] >= 0) & (face_pts[:, 0] < w) & (face_pts[:, 1] >= 0) & (face_pts[:, 1] < h)
    ).all()
    if usable:
        eyes = (kp["l_eye"] + kp["r_eye"]) / 2
        mouth = (kp["l_mouth"] + kp["r_mouth"]) / 2
        face = np.array([kp["l_eye"], kp["r_eye"], kp["r_mouth"], kp["l_mouth"]], float)
        # Shrink toward the face centre: eye whites, brows and lips are not skin.
        centre = (eyes + mouth) / 2
        region = polygon(mask.shape, centre + 0.8 * (face - centre)) & mask
        samples = ycrcb[region].astype(np.float64)
        if len(samples) >= 30:
            # Drop the darkest/brightest pixels (nostrils, specular highlights).
            lo, hi = np.percentile(samples[:, 0], [15, 95])
            samples = samples[(samples[:, 0] >= lo) & (samples[:, 0] <= hi)]
            chroma = samples[:, 1:]
            mean = chroma.mean(0)
            cov = np.cov(chroma.T) + np.eye(2) * 4.0  # floor: faces are very uniform, arms less so
            return mean, np.linalg.inv(cov), True
    # Generic skin chroma, centred in the Cr 133-173 / Cb 77-127 box of Chai & Ngan but narrower: the box
    # also holds warm whites and beiges, which here are garments far more often than skin.
    mean = np.array([150.0, 108.0])
    cov = np.array([[7.0**2, -0.6 * 7.0 * 8.0], [-0.6 * 7.0 * 8.0, 8.0**2]])
    return mean, np.linalg.inv(cov), False


def skin_map(ycrcb: np.ndarray, mean: np.ndarray, inv_cov: np.ndarray, threshold: float = 3.0) -> np.ndarray:
    d = ycrcb[..., 1:].astype(np.float32) - mean.astype(np.float32)
    m = inv_cov.astype(np.float32)
    dist2 = d[..., 0] ** 2 * m[0, 0] + 2 * d[..., 0] * d[..., 1] * m[0, 1] + d[..., 1] ** 2 * m[1, 1]
    # Very dark pixels have unreliable chroma (hair, black garments), and skin is always a little red: greys
    # and whites are never skin.
    return (dist2 < threshold**2) & (ycrcb[..., 0] > 40) & (ycrcb[..., 1] > 134)


@dataclass
class SkinTone:
    """The person's visible skin, in float Lab (L 0..100)."""

    lab: np.ndarray  # (3,) robust centre (median after outlier rejection)
    grain: float  # std of the skin's fine luminance texture (pores, sensor noise), L units
    samples: int  # how many pixels it was measured on (0: a neutral default)


# Skin is smooth at the finest scale (see ``fine_texture``); a woven check or a busy print is not.
SMOOTH_SKIN = 8.0


def fine_texture(rgb: np.ndarray) -> np.ndarray:
    """Local strength of the finest detail (grey levels): the luminance's difference from a 1.5 px blur,
    averaged over a few pixels. Skin, even with pores and sensor noise, stays under ``SMOOTH_SKIN``."""
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return cv2.GaussianBlur(np.abs(grey - cv2.GaussianBlur(grey, (0, 0), 1.5)), (0, 0), 3.0)


def skin_like(rgb: np.ndarray) -> np.ndarray:
    """Broad skin chroma test (Chai & Ngan's CrCb box): rules out hair, greys and most garments."""
    ycrcb = cv2.cvtColor(rgb, cv2.COLOR_RGB2YCrCb)
    return (
        (ycrcb[..., 0] > 40)
        & (ycrcb[..., 1] >= 133)
        & (ycrcb[..., 1] <= 180)
        & (ycrcb[..., 2] >= 77)
        & (ycrcb[..., 2] <= 135)
    )


def sample_skin(rgb: np.ndarray, regions: dict[str, np.ndarray], body: Body | None = None) -> SkinTone:
    """Measure the person's real skin: bare arms and midriff, the face around the nose, the hands.

    Each source is capped so that none dominates; the colour is the median of the pooled
    samples after dropping those more than 2.5 robust deviations from it in any Lab channel
    (lips, eye whites, shadows, a stray garment pixel).
    """
    h, w = rgb.shape[:2]
    sources = [union(regions, "arm_skin", "torso_skin"), union(regions, "hands")]
    face = union(regions, "face_hair_neck")
    if body is not None and "nose" in body.kp:
        # Cheeks, nose, chin and neck front: a disc below the eyes (not the hair).
        yy, xx = np.ogrid[0:h, 0:w]
        nose = body.kp["nose"] + 0.08 * body.shoulder_width * body.d
        face = face & ((xx - nose[0]) ** 2 + (yy - nose[1]) ** 2 < (0.28 * body.shoulder_width) ** 2)
    sources.insert(1, face)
    rng = np.random.default_rng(0)
    picked = []
    # The grain is measured on the source with the most skin: its Lab lightness and skin pixels.
    grain_source: tuple[np.ndarray, np.ndarray] | None = None
    for sel, cap in zip(sources, (4000, 3000, 1500), strict=True):
        box = bounding_box(sel)
        if box is None:
            continue
        x0, y0, x1, y1 = box
        sub = sel[y0:y1, x0:x1] & skin_like(rgb[y0:y1, x0:x1])
        sub = cv2.erode(sub.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)  # edges mix with the surroundings
        n = int(sub.sum())
        if n < 60:
            continue
        lab = cv2.cvtColor(rgb[y0:y1, x0:x1].astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
        px = lab[sub]
        picked.append(px[rng.choice(n, cap, replace=False)] if n > cap else px)
        if grain_source is None or n > grain_source[1].sum():
            grain_source = (lab[..., 0], sub)
    if grain_source is None:  # (no source had enough skin: nothing was picked)
        return SkinTone(lab=np.array([68.0, 14.0, 18.0], np.float32), grain=1.2, samples=0)  # a neutral mid tone
    px = np.concatenate(picked)
    med = np.median(px, axis=0)
    mad = 1.4826 * np.median(np.abs(px - med), axis=0) + np.array([1.0, 0.5, 0.5])
    keep = (np.abs(px - med) <= 2.5 * mad).all(axis=1)
    if keep.sum() >= 30:
        med = np.median(px[keep], axis=0)
    lum, sub = grain_source
    fine = lum - cv2.GaussianBlur(lum, (0, 0), 1.5)
    grain = float(np.clip(1.4826 * np.median(np.abs(fine[sub])), 0.4, 3.0))
    return SkinTone(lab=med.astype(np.float32), grain=grain, samples=len(px))


# Bordering skin whose chroma (a, b) is farther than this from the made skin's is not measured (see
# ``_match_bordering_skin``).
MAX_CHROMA_STEP = 8.0


def _match_bordering_skin(
    rgb: np.ndarray,
    zone: np.ndarray,
    old: np.ndarray,
    lab: np.ndarray,
    sw: float,
    person_skin: np.ndarray | None = None,
    trunk: np.ndarray | None = None,
) -> np.ndarray:
    """A smooth Lab offset that brings the made skin to the real skin bordering it.

    The pooled tone (face, arms, hands) is lit differently from the trunk: a midriff made from it met
    the real midriff below it with a visible step. Where real skin touches the zone, the difference
    between it and the made skin is measured and spread into the zone, fading within a fifth of the
    shoulder width from any real skin (so nothing changes where the zone borders only garment).
    """
    # Everything here is smooth: worked at a quarter of the resolution, the result scaled back up
    # (at full size the wide blur cost more than the rest of the skin).
    h, w = zone.shape
    f = 4
    small = (max(1, w // f), max(1, h // f))
    rgb_s = cv2.resize(rgb, small, interpolation=cv2.INTER_AREA)
    zone_s = cv2.resize(zone.astype(np.uint8), small, interpolation=cv2.INTER_NEAREST).astype(bool)
    old_s = cv2.resize(old.astype(np.uint8), small, interpolation=cv2.INTER_NEAREST).astype(bool)
    lab_s = cv2.resize(lab, small, interpolation=cv2.INTER_AREA)
    ring_w = max(1, int(0.04 * sw / f))
    near = cv2.dilate(zone_s.astype(np.uint8), np.ones((2 * ring_w + 1, 2 * ring_w + 1), np.uint8)).astype(bool)
    person_lab = cv2.cvtColor(rgb_s.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    # Skin far off the made skin's hue and saturation is no reference: along a white collar the skin
    # mixes with the white (paler, greyer), and a few such pixels pulled a whole made chest pale.
    # Light differs across real skin; its chroma much less.
    near_hue = np.linalg.norm(person_lab[..., 1:] - lab_s[..., 1:], axis=2) < MAX_CHROMA_STEP
    real = near & ~zone_s & ~old_s & skin_like(rgb_s) & near_hue
    if real.sum() < 4:
        return np.zeros_like(lab)
    diff = np.where(real[..., None], person_lab - lab_s, 0.0).astype(np.float32)
    limits = np.array([12.0, 6.0, 6.0], np.float32)  # a lighting step, not a new colour

    def spread(scale: float) -> tuple[np.ndarray, np.ndarray]:
        """The difference spread about ``scale`` shoulder widths from real skin, and its strength (0..1)."""
        sigma = max(1.0, scale * sw / f)
        weight = cv2.GaussianBlur(real.astype(np.float32), (0, 0), sigma)
        value = cv2.GaussianBlur(diff, (0, 0), sigma) / np.maximum(weight, 1e-4)[..., None]
        # Full strength next to real skin, none a couple of sigmas away from it.
        full = float(cv2.GaussianBlur(np.ones_like(weight), (0, 0), sigma).max())
        return np.clip(value, -limits, limits), np.clip(weight / max(0.15 * full, 1e-6), 0, 1)

    near, near_reach = spread(0.1)
    # A wide zone (a chest bared by a low neckline, between the neck and the arms) kept the pooled
    # tone beyond the near fade: a flat block of another tone than the skin around it. A broader
    # spread carries the surrounding skin's tone across it; the near one keeps the detail at the border.
    far, far_reach = spread(0.3)
    real_s = skin_like(rgb_s) & ~zone_s & ~old_s & near_hue
    if person_skin is not None:
        real_s &= cv2.resize(person_skin.astype(np.uint8), small, interpolation=cv2.INTER_NEAREST).astype(bool)
    trunk_s = np.ones_like(zone_s)
    if trunk is not None:
        trunk_s = cv2.resize(trunk.astype(np.uint8), small, interpolation=cv2.INTER_NEAREST).astype(bool)
    grown = _bordering_fill(person_lab - lab_s, zone_s & trunk_s, real_s, sw / f)
    if grown is not None:
        # The skin around a wide zone (the neck above, the arms beside) is lit unevenly: grown in from
        # all round, that light carries over the zone instead of one tone meeting it with a step.
        # The trunk only: beside an arm, what borders it may be a sheer sleeve the analysis took for skin.
        far = np.where(trunk_s[..., None], grown, far)
        far_reach = np.where(trunk_s, 1.0, far_reach)
    offset = near * near_reach[..., None] + far * ((1 - near_reach) * far_reach)[..., None]
    return cv2.resize(offset.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)


def _bordering_fill(diff: np.ndarray, zone: np.ndarray, real: np.ndarray, sw: float) -> np.ndarray | None:
    """``diff`` (real minus made) on the real skin within a sixth of the shoulder width around
    ``zone``, grown inward over the zone (each point a distance-weighted mean of the skin around
    it: darker under the neck's shadow, lighter beside lit arms). None for a narrow zone or when
    little real skin borders it."""
    r = max(2, int(0.16 * sw))
    ring = cv2.dilate(zone.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
    ring = (ring > 0) & ~zone & real
    # Only zones wide enough to show a flat block: a strap's width needs no more than the near spread.
    if zone.sum() < (0.3 * sw) ** 2 or ring.sum() < 30:
        return None
    # Smoothed first: the fill copies the border's values inward, and its grain must not streak.
    sigma = max(1.0, 0.03 * sw)
    weight = cv2.GaussianBlur(ring.astype(np.float32), (0, 0), sigma)
    out = np.empty_like(diff)
    holes = (~ring).astype(np.uint8)
    for c, limit in enumerate((15.0, 6.0, 6.0)):
        v = cv2.GaussianBlur(np.where(ring, diff[..., c], 0).astype(np.float32), (0, 0), sigma)
        v = np.where(ring, v / np.maximum(weight, 1e-4), 0).astype(np.float32)
        filled = cv2.inpaint(v, holes, max(3, int(0.1 * sw)), cv2.INPAINT_TELEA)
        # The fill streaks along its march from the border: only its broad light is wanted.
        out[..., c] = np.clip(cv2.GaussianBlur(filled, (0, 0), max(1.0, 0.08 * sw)), -limit, limit)
    return out


def skin_layer(
    person_rgb: np.ndarray,
    zone: np.ndarray,
    old: np.ndarray,
    tone: SkinTone,
    body: Body,
    feather: float,
    person_skin: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Skin for ``zone``: (rgb float32 0..255, soft alpha).

    Colour: the person's measured skin (Lab). Light: the old garment's luminance, low-pass
    only (its folds and print must not show) and compressed, times a roundness term (arms and
    trunk darken toward their silhouette's edge), normalised so the median matches the
    measured skin. Texture: fine grain as strong as the real skin's. Edge: a soft alpha.
    """
    h, w = zone.shape
    sw = body.shoulder_width
    out = np.zeros((h, w, 3), np.float32)
    alpha = np.zeros((h, w), np.float32)
    found = bounding_box(zone)
    if found is None:
        return out, alpha
    box = found.padded(int(3 * feather) + 4, h, w)
    x0, y0, x1, y1 = box
    crop = box.slices
    z = zone[crop]
    m = old[crop].astype(np.float32)
    lum = cv2.cvtColor(person_rgb[crop], cv2.COLOR_RGB2GRAY).astype(np.float32)
    # Low-pass of the old garment's own luminance (the background does not bleed in).
    sigma = max(3.0, 0.05 * sw)
    low = cv2.GaussianBlur(lum * m, (0, 0), sigma) / np.maximum(cv2.GaussianBlur(m, (0, 0), sigma), 1e-3)
    low = np.where(m > 0, low, float(np.median(lum[z])) if z.any() else 128.0)
    ratio = np.clip(low / max(float(np.median(low[z])), 1.0), 0.6, 1.4) ** 0.5
    # Roundness: darker toward the edge of the arm (distance to the bone) and of the trunk.
    sub_body = body.cropped(box)
    reach = np.minimum(arm_reach(sub_body), 1.0)
    lateral = off_axis(sub_body) / (0.55 * sw)
    on_arm = reach < 1.0
    round_ = np.where(on_arm, 1 - 0.25 * reach**2, 1 - 0.15 * np.minimum(lateral, 1.0) ** 2)
    light = ratio * round_
    light /= max(float(np.median(light[z])), 1e-3)
    lab = np.empty((y1 - y0, x1 - x0, 3), np.float32)
    lab[..., 0] = tone.lab[0] * light
    # Shadowed skin is a little more saturated than lit skin.
    chroma = np.clip(1.0 + 0.4 * (1.0 - light), 0.85, 1.3)
    lab[..., 1] = tone.lab[1] * chroma
    lab[..., 2] = tone.lab[2] * chroma
    lab += _match_bordering_skin(
        person_rgb[crop], z, m > 0, lab, sw, None if person_skin is None else person_skin[crop], ~on_arm
    )
    # Grain: blurred a little (real noise is not pixel-independent after demosaicing and JPEG).
    rng = np.random.default_rng(7)
    noise: np.ndarray = cv2.GaussianBlur(rng.standard_normal(lab.shape[:2]).astype(np.float32), (0, 0), 0.7)
    noise *= tone.grain / max(float(noise.std()), 1e-6)
    lab[..., 0] = np.clip(lab[..., 0] + noise, 0, 100)
    lab[..., 1:] += 0.3 * noise[..., None]
    out[crop] = cv2.cvtColor(lab, cv2.COLOR_Lab2RGB) * 255.0
    alpha[crop] = np.clip(cv2.GaussianBlur(z.astype(np.float32), (0, 0), max(0.8, feather)) * 1.02, 0, 1)
    alpha[crop] = np.where(z, np.maximum(alpha[crop], 0.5), alpha[crop])
    return out, alpha
