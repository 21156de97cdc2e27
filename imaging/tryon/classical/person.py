"""Person analysis for the virtual try-on: pose, person mask and body regions from landmarks + mask + colour.

No human-parsing network can be had here (see ``shared/models.md``), so the regions are built geometrically
from the BlazePose landmarks and mask, and split by colour:

* a skin colour model (Gaussian in YCrCb chroma) sampled from the face, or a generic skin range when the
  face is not usable;
* arms as capsules along shoulder-elbow-wrist, hands as discs around the hand landmarks, both cut by the mask;
* the torso as a polygon through the (widened) shoulders and hips, cut by the mask;
* the waist (where the upper garment meets the lower body) found by colour along the torso axis.

Regions (HxW bool, all inside ``mask`` except ``background``):

``face_hair_neck``  head, hair above the shoulders, and neck skin
``hands``           the hands
``arms``            the arms from the shoulder joint to the wrist (skin and sleeves), excluding hands
``arm_skin``        bare skin of the arms (subset of ``arms``)
``sleeves``         the current garment's sleeves (subset of ``arms`` and of ``upper_garment``)
``upper_garment``   the current top on the torso and its sleeves; no skin, no hands, no face
``torso_skin``      bare skin inside the torso (neckline, midriff)
``lower_body``      everything of the person below the waist (trousers, skirt, legs), hands and arms excluded
``background``      not the person

``face_hair_neck``, ``hands``, ``arms``, ``torso_skin``, ``lower_body`` and ``background`` are pairwise disjoint;
``upper_garment`` is disjoint from all of them except ``arms`` (it shares ``sleeves``).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from imaging.errors import PipelineError
from imaging.masks import bounding_box, capsule, guided_filter, polygon

from .body import Body
from .geometry import segment_distance
from .pose import MIN_VISIBILITY, DetectorKeypoint, Landmark, Pose, detect_pose
from .skin import SMOOTH_SKIN, fine_texture, skin_map, skin_model

# The torso (shoulder centre to hip centre) must be at least this fraction of the image's long side...
MIN_TORSO_FRACTION = 0.1
# ...and at least this many pixels, or there is too little of the person to dress.
MIN_TORSO_PX = 48
# A second detection counts as another person when it is this confident (the dev photos of one person show
# no second detection above 0.1; a second astronaut beside the first scores 0.49)...
SECOND_PERSON_SCORE = 0.35
# ...its face is apart from the first one's, and its body is at least this large relative to the first.
SECOND_PERSON_SIZE = 0.5

# The skin model's Mahalanobis radius for skin in other light than the face's (see ``_regions``).
LOOSE_SKIN = 5.0

REGION_NAMES = (
    "face_hair_neck",
    "arms",
    "arm_skin",
    "sleeves",
    "hands",
    "upper_garment",
    "torso_skin",
    "lower_body",
    "background",
)


@dataclass
class PersonAnalysis:
    rgb: np.ndarray
    pose: Pose
    mask: np.ndarray  # HxW bool person
    regions: dict[str, np.ndarray]  # HxW bool each, see the module docstring
    keypoints: dict[str, np.ndarray]  # named (2,) float32 points in image pixels; "l_" = the person's left
    waist_y: float = 0.0  # torso-axis position of the waist split: 0 = shoulder line, 1 = hip line
    skin_from_face: bool = False  # whether the skin colour model came from the face (else a generic range)
    # No colour split between the chest and the thighs: one garment (a dress, a jumpsuit) runs on past the
    # hips, or the top and the bottoms are alike; the split then falls back to the hip line.
    one_piece: bool = False


# The keypoints the analysis names ("l_" = the person's left), from BlazePose's landmarks.
KEYPOINT_LANDMARKS = {
    "nose": Landmark.NOSE, "l_eye": Landmark.LEFT_EYE, "r_eye": Landmark.RIGHT_EYE, "l_ear": Landmark.LEFT_EAR,
    "r_ear": Landmark.RIGHT_EAR, "l_mouth": Landmark.MOUTH_LEFT, "r_mouth": Landmark.MOUTH_RIGHT,
    "l_shoulder": Landmark.LEFT_SHOULDER, "r_shoulder": Landmark.RIGHT_SHOULDER, "l_elbow": Landmark.LEFT_ELBOW,
    "r_elbow": Landmark.RIGHT_ELBOW, "l_wrist": Landmark.LEFT_WRIST, "r_wrist": Landmark.RIGHT_WRIST,
    "l_index": Landmark.LEFT_INDEX, "r_index": Landmark.RIGHT_INDEX, "l_pinky": Landmark.LEFT_PINKY,
    "r_pinky": Landmark.RIGHT_PINKY, "l_thumb": Landmark.LEFT_THUMB, "r_thumb": Landmark.RIGHT_THUMB,
    "l_hip": Landmark.LEFT_HIP, "r_hip": Landmark.RIGHT_HIP, "l_knee": Landmark.LEFT_KNEE,
    "r_knee": Landmark.RIGHT_KNEE, "l_ankle": Landmark.LEFT_ANKLE, "r_ankle": Landmark.RIGHT_ANKLE,
}  # fmt: skip


def _keypoints(pose: Pose) -> dict[str, np.ndarray]:
    p = pose.landmarks
    out = {key: p[landmark].astype(np.float32) for key, landmark in KEYPOINT_LANDMARKS.items()}
    out["neck"] = ((out["l_shoulder"] + out["r_shoulder"]) / 2).astype(np.float32)
    out["mid_hip"] = ((out["l_hip"] + out["r_hip"]) / 2).astype(np.float32)
    return out


# --------------------------------------------------------------------------- checks


def _check_person(rgb: np.ndarray, pose: Pose) -> None:
    h, w = rgb.shape[:2]
    best = pose.people[0]
    # The detector's box is a fixed-size square around the face; its keypoints give the body: centre (hips)
    # and radius. Another person: confident enough, face apart from the first, body of comparable size.
    centre, scale_point = DetectorKeypoint.HIP_CENTRE, DetectorKeypoint.BODY_SCALE
    best_radius = float(np.linalg.norm(best.keypoints[scale_point] - best.keypoints[centre]))
    face = best.box[2] - best.box[0]
    for other in pose.people[1:]:
        radius = float(np.linalg.norm(other.keypoints[scale_point] - other.keypoints[centre]))
        apart = np.linalg.norm((other.box[:2] + other.box[2:]) / 2 - (best.box[:2] + best.box[2:]) / 2) > face
        if other.score >= SECOND_PERSON_SCORE and apart and radius >= SECOND_PERSON_SIZE * best_radius:
            raise PipelineError(
                "MULTIPLE_PEOPLE",
                "More than one person is in the photo. Crop it to the one person who should wear the garment.",
            )
    v = pose.visibility
    needed = [Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER, Landmark.LEFT_HIP, Landmark.RIGHT_HIP]
    pts = pose.landmarks[needed]
    margin = 0.02 * max(h, w)
    inside = (pts[:, 0] > -margin) & (pts[:, 0] < w + margin) & (pts[:, 1] > -margin) & (pts[:, 1] < h + margin)
    if (v[needed] < MIN_VISIBILITY).any() or not inside.all():
        raise PipelineError(
            "UPPER_BODY_NOT_VISIBLE",
            "Shoulders and hips must both be in the photo. Use a photo "
            "showing at least the upper body down to the hips.",
        )
    torso = float(np.linalg.norm((pts[0] + pts[1]) / 2 - (pts[2] + pts[3]) / 2))
    if torso < MIN_TORSO_FRACTION * max(h, w) or torso < MIN_TORSO_PX:
        raise PipelineError(
            "PERSON_TOO_SMALL",
            "The person is too small in the photo. Use a photo where the person fills most of the frame.",
        )


def _colour_centres(lab: np.ndarray, region: np.ndarray, k: int = 3) -> np.ndarray | None:
    samples = lab[region].reshape(-1, 3).astype(np.float32)
    if len(samples) < 50:
        return None
    if len(samples) > 4000:
        samples = samples[np.random.default_rng(0).choice(len(samples), 4000, replace=False)]
    k = min(k, len(samples))
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 1.0)
    # (bestLabels is output only here: OpenCV allocates it; an empty array says so to the type stubs.)
    _, labels, centres = cv2.kmeans(samples, k, np.empty((0, 1), np.int32), criteria, 2, cv2.KMEANS_PP_CENTERS)
    # Keep only clusters with a real share of the samples (a stray hand or shadow is not the garment).
    share = np.bincount(labels.ravel(), minlength=k) / len(labels)
    return centres[share > 0.1]


def _nearest_distance(lab: np.ndarray, centres: np.ndarray) -> np.ndarray:
    d = lab[..., None, :].astype(np.float32) - centres[None, :, :]
    return np.sqrt((d**2).sum(-1)).min(-1)


def _find_waist(
    lab: np.ndarray, t: np.ndarray, candidates: np.ndarray, upper: np.ndarray, lower: np.ndarray
) -> float | None:
    """Torso-axis position where the upper garment gives way to the lower body, by colour.

    Picks the split maximising (# upper-like pixels above) + (# lower-like pixels below) among ``candidates``.
    """
    sel = candidates & (t > 0.3) & (t < 1.25)
    if sel.sum() < 100:
        return None
    du = _nearest_distance(lab[sel], upper)
    dl = _nearest_distance(lab[sel], lower)
    ts = t[sel]
    vote = np.sign(dl - du)  # +1 upper-like, -1 lower-like
    bins = np.linspace(0.3, 1.25, 96)
    idx = np.clip(np.digitize(ts, bins) - 1, 0, len(bins) - 2)
    per_bin = np.bincount(idx, weights=vote, minlength=len(bins) - 1)
    # score(split at bin i) = sum of votes above i - sum of votes from i down
    above = np.concatenate([[0.0], np.cumsum(per_bin)])
    total = above[-1]
    score = above - (total - above)
    # Ambiguous colours (upper and lower alike) give flat scores: the caller falls back to the hip line.
    if score.max() - max(score[0], score[-1]) < 0.05 * len(ts):
        return None
    return float(bins[int(np.argmax(score))]) if int(np.argmax(score)) < len(bins) else None


def _sleeve_islands(sleeves: np.ndarray, torso_garment: np.ndarray) -> np.ndarray:
    """The pieces of ``sleeves`` that do not touch the garment on the trunk (a real sleeve hangs from it)."""
    if not sleeves.any():
        return sleeves
    _, labels = cv2.connectedComponents(sleeves.astype(np.uint8), connectivity=8)
    touch = cv2.dilate(torso_garment.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    attached = np.unique(labels[touch & sleeves])
    return sleeves & ~np.isin(labels, attached[attached > 0])


# --------------------------------------------------------------------------- regions


def analyze_person(rgb: np.ndarray) -> PersonAnalysis:
    """Pose, person mask and body regions of the one person in an RGB uint8 photo.

    Raises ``PipelineError`` with code ``NO_PERSON``, ``MULTIPLE_PEOPLE``, ``UPPER_BODY_NOT_VISIBLE`` or
    ``PERSON_TOO_SMALL``.
    """
    pose = detect_pose(rgb)
    _check_person(rgb, pose)
    kp = _keypoints(pose)
    mask = _refine_mask(rgb, pose.mask) > 0.5
    mask = _largest_components(mask, kp)
    if not mask.any():
        raise PipelineError("NO_PERSON", "No person could be separated from the background. Use a clearer photo.")
    # Every region but the background lies inside the mask: work on its bounding box only (2-3x less work).
    box = bounding_box(mask)
    assert box is not None  # (the mask is not empty)
    offset = np.array([box.x0, box.y0], np.float32)
    crop_kp = {name: point - offset for name, point in kp.items()}
    crop, waist_t, skin_from_face, one_piece = _regions(rgb[box.slices], mask[box.slices], crop_kp, pose.visibility)
    regions = {}
    for name in REGION_NAMES[:-1]:
        regions[name] = np.zeros(mask.shape, bool)
        regions[name][box.slices] = crop[name]
    regions["background"] = ~mask
    return PersonAnalysis(
        rgb=rgb,
        pose=pose,
        mask=mask,
        regions=regions,
        keypoints=kp,
        waist_y=waist_t,
        skin_from_face=skin_from_face,
        one_piece=one_piece,
    )


def _regions(
    rgb: np.ndarray, mask: np.ndarray, kp: dict[str, np.ndarray], visibility: np.ndarray
) -> tuple[dict[str, np.ndarray], float, bool, bool]:
    """The person's regions (all but the background) in an image, its mask and keypoints; the waist's
    torso-axis position, whether the skin model came from the face, and whether no waist split was found."""
    h, w = mask.shape
    shape = (h, w)
    sw = float(np.linalg.norm(kp["l_shoulder"] - kp["r_shoulder"]))
    neck, mid_hip = kp["neck"], kp["mid_hip"]
    torso_len = float(np.linalg.norm(mid_hip - neck))
    scale = max(sw, 0.6 * torso_len)  # robust body scale: shoulders foreshorten when the person turns
    down = (mid_hip - neck) / max(torso_len, 1e-6)  # unit torso axis, pointing to the hips
    across = np.array([-down[1], down[0]])  # perpendicular: image-right for an upright person

    ys, xs = np.mgrid[:h, :w].astype(np.float32)
    # Torso-axis coordinate of every pixel: 0 at the shoulder line, 1 at the hip line.
    t = ((xs - neck[0]) * down[0] + (ys - neck[1]) * down[1]) / max(torso_len, 1e-6)

    ycrcb = cv2.cvtColor(rgb, cv2.COLOR_RGB2YCrCb)
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab)
    skin_mean, skin_inv, skin_from_face = skin_model(ycrcb, mask, kp, visibility)
    skin = skin_map(ycrcb, skin_mean, skin_inv) & mask
    skin = cv2.morphologyEx(skin.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)).astype(bool)

    # Hands: a capsule from the wrist through the knuckles (index/pinky/thumb landmarks), as wide as the hand.
    hands = np.zeros(shape, bool)
    near_wrist = np.zeros(shape, bool)
    for side in ("l", "r"):
        wrist = kp[f"{side}_wrist"]
        fingers = np.array([kp[f"{side}_index"], kp[f"{side}_pinky"], kp[f"{side}_thumb"]])
        length = max(float(np.linalg.norm(fingers - wrist, axis=1).max()), 0.1 * scale)
        direction = (fingers.mean(0) - wrist) / max(float(np.linalg.norm(fingers.mean(0) - wrist)), 1e-6)
        tip = wrist + direction * length * 1.3  # the landmarks stop at the knuckles; fingers go further
        hand = capsule(shape, wrist, tip, max(0.55 * length, 0.06 * scale)) & mask
        # A hand in a pocket or on a garment: the capsule also covers the clothes around it, which
        # must not stay in front of the new garment. Where the capsule is largely skin, the hand is
        # that skin grown a little (a gloved hand, hardly skin at all, keeps the whole capsule).
        hand_skin = hand & skin
        if hand_skin.sum() > 0.3 * max(int(hand.sum()), 1):
            k = max(3, int(0.03 * scale) | 1)
            grown = cv2.dilate(hand_skin.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
            hand &= grown.astype(bool)
        hands |= hand
        # The capsule reaches back over the wrist, where a long sleeve's cuff ends: remember that part
        # (only for a bare hand: a glove may well have the sleeve's colour).
        if hand_skin.sum() > 0.15 * max(int(hand.sum()), 1):
            along = (xs - wrist[0]) * direction[0] + (ys - wrist[1]) * direction[1]
            near_wrist |= hand & (along < 0.35 * length)

    # Head and neck: the person above the shoulder line (raised a little: the garment's shoulder seam sits
    # above the joint centres) plus neck skin just below it.
    head = mask & (t < -0.12 * sw / max(torso_len, 1e-6))
    lateral = (xs - neck[0]) * across[0] + (ys - neck[1]) * across[1]
    neck_zone = (np.abs(lateral) < 0.28 * sw) & (t < 0.05)
    face_hair_neck = head | (skin & neck_zone)

    # Arms: capsules along shoulder-elbow-wrist, but a pixel nearer the torso's side line than the arm bone
    # is torso (arms hanging beside the body touch it; the capsule alone would eat the garment's sides).
    arms = np.zeros(shape, bool)
    pix = np.stack([xs, ys], axis=-1)
    for side, other in (("l", "r"), ("r", "l")):
        sh, el, wr, hip = kp[f"{side}_shoulder"], kp[f"{side}_elbow"], kp[f"{side}_wrist"], kp[f"{side}_hip"]
        limb = capsule(shape, sh, el, 0.22 * scale) | capsule(shape, el, wr, 0.16 * scale)
        box = bounding_box(limb)
        if box is None:
            continue
        x0, y0, x1, y1 = box
        p = pix[y0:y1, x0:x1]
        bone = np.minimum(segment_distance(p, sh, el), segment_distance(p, el, wr))
        side_top = sh + (kp[f"{other}_shoulder"] - sh) * 0.25
        torso_side = segment_distance(p, side_top, hip)
        arm = limb[y0:y1, x0:x1] & (bone < torso_side)
        arms[y0:y1, x0:x1] |= arm
    arms &= mask & ~hands & ~face_hair_neck
    hands &= mask & ~face_hair_neck

    # Torso polygon: shoulders widened and raised, hips widened (the hip joints sit inside the body), down to
    # a little below the hip line; the mask cuts it to the real silhouette.
    ls, rs, lh, rh = kp["l_shoulder"], kp["r_shoulder"], kp["l_hip"], kp["r_hip"]
    up = -down
    torso_poly = np.array([
        ls + (ls - rs) * 0.15 + up * 0.15 * sw,
        rs + (rs - ls) * 0.15 + up * 0.15 * sw,
        rh + (rh - lh) * 0.6 + down * 0.25 * torso_len,
        lh + (lh - rh) * 0.6 + down * 0.25 * torso_len,
    ])  # fmt: skip
    torso = polygon(shape, torso_poly) & mask & ~face_hair_neck & ~hands

    # Waist: colour of the chest (upper garment) vs the thighs (lower body).
    free = torso & ~skin & ~arms
    chest = free & (t > 0.1) & (t < 0.45) & (np.abs(lateral) < 0.35 * sw)
    thighs = mask & ~skin & ~hands & ~arms & (t > 1.15) & (t < 1.6) & (np.abs(lateral) < 0.6 * sw)
    upper_c, lower_c = _colour_centres(lab, chest), _colour_centres(lab, thighs)
    waist = None
    if upper_c is not None and lower_c is not None:
        waist = _find_waist(lab, t, (torso | (mask & ~arms & ~hands)) & ~skin, upper_c, lower_c)
    waist_t = waist if waist is not None else 1.0

    textured = fine_texture(rgb) >= SMOOTH_SKIN
    # The face's skin model is tight (faces are evenly lit): arms and a midriff in other light fall just
    # outside it. Those of the loose model far from every colour of the top are skin all the same.
    if skin_from_face and upper_c is not None:
        loose = skin_map(ycrcb, skin_mean, skin_inv, threshold=LOOSE_SKIN) & (arms | torso) & ~skin & mask
        loose &= ~textured  # (a skin-toned print, a leopard skirt, is no skin)
        far = np.zeros(shape, bool)
        far[loose] = _nearest_distance(lab[loose], upper_c) > 30
        skin |= cv2.morphologyEx(far.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)).astype(bool)
    # Arm pixels that are not skin are sleeve, except below the waist where the capsule also catches the
    # trousers or skirt beside the forearm: there the colour decides. So it does for a skin-toned print
    # there (a leopard skirt): it passes the skin test, but it is busy where skin is smooth.
    sleeves = arms & ~skin
    if waist is not None and upper_c is not None and lower_c is not None:  # (found from both colours)
        low = (sleeves | (arms & skin & textured)) & (t >= waist_t)
        moved = np.zeros(shape, bool)
        moved[low] = _nearest_distance(lab[low], lower_c) < _nearest_distance(lab[low], upper_c)
        sleeves &= ~moved
        arms &= ~moved
    # Non-skin pieces of an arm cut off from the top on the trunk are no sleeve: a bare arm's highlights
    # and shadows the skin model misses (as sleeves they were old garment, and their blotches shaded
    # the new sleeve).
    islands = _sleeve_islands(sleeves, free)
    skin |= islands
    sleeves &= ~islands
    # Old cuffs: near the wrist, hand pixels that are not skin and have the sleeves' colour are sleeve.
    sleeve_c = _colour_centres(lab, sleeves)
    if sleeve_c is not None:
        cand = hands & near_wrist & ~skin
        cuff = np.zeros(shape, bool)
        cuff[cand] = _nearest_distance(lab[cand], sleeve_c) < 30
        hands &= ~cuff
        arms |= cuff
        sleeves |= cuff
    # Old collar and shoulders above a lower new neckline: the head region is everything above the
    # (raised) shoulder line, so a high collar or the shoulders of the old top count as head. Below
    # the chin, in the neck's column, non-skin pixels of the old garment's colour are garment.
    # (Its dominant colour only: an under-layer, say a dark turtleneck under a suit, is no collar.)
    garment_c = _colour_centres(lab, chest | sleeves, k=1)
    if garment_c is not None:
        mouth = (kp["l_mouth"] + kp["r_mouth"]) / 2
        eyes = (kp["l_eye"] + kp["r_eye"]) / 2
        chin = mouth + 0.9 * float(np.linalg.norm(mouth - eyes)) * down
        t_chin = float((chin - neck) @ down) / max(torso_len, 1e-6)
        cand = face_hair_neck & ~skin & (t > t_chin) & (np.abs(lateral) < 0.3 * sw)
        collar = np.zeros(shape, bool)
        collar[cand] = _nearest_distance(lab[cand], garment_c) < 25
        collar = cv2.morphologyEx(collar.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)).astype(bool)
        face_hair_neck &= ~collar
        torso |= collar
    lower_body = mask & (t >= waist_t) & ~arms & ~hands & ~face_hair_neck
    upper_garment = ((torso & ~skin & (t < waist_t)) | sleeves) & ~lower_body
    arm_skin = arms & skin
    torso_skin = torso & skin & ~arms & ~lower_body
    regions = {
        "face_hair_neck": face_hair_neck,
        "arms": arms,
        "arm_skin": arm_skin,
        "sleeves": sleeves,
        "hands": hands,
        "upper_garment": upper_garment,
        "torso_skin": torso_skin,
        "lower_body": lower_body,
    }
    return regions, waist_t, skin_from_face, waist is None


def _refine_mask(rgb: np.ndarray, probability: np.ndarray) -> np.ndarray:
    """Snap the network's soft mask to the photo's edges with a colour-guided filter (He et al., 2010).

    The landmark model's mask is predicted on a 256x256 crop of the whole body, so at 1024 px its edge is a
    smooth curve a few pixels off the real silhouette. The guided filter keeps the mask where the photo is
    flat and lets its edge follow the photo's edges. Grey guide, computed on the mask's surroundings only.
    """
    near = bounding_box(probability > 0.02)
    if near is None:
        return probability
    h, w = probability.shape
    box = near.padded(16, h, w)
    guide = cv2.cvtColor(rgb[box.slices], cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    p = probability[box.slices].astype(np.float32)
    out = probability.copy()
    out[box.slices] = np.clip(guided_filter(guide, p, radius=max(2, round(max(h, w) / 160)), eps=1e-3), 0.0, 1.0)
    return out


def _largest_components(mask: np.ndarray, kp: dict[str, np.ndarray]) -> np.ndarray:
    """Keep the mask components that touch the torso: drops stray blobs (another person's arm, shadows)."""
    count, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    if count <= 2:
        return mask
    h, w = mask.shape
    keep = np.zeros(count, bool)
    torso_pts = [kp["neck"], kp["mid_hip"], (kp["neck"] + kp["mid_hip"]) / 2]
    for p in torso_pts:
        x, y = int(np.clip(p[0], 0, w - 1)), int(np.clip(p[1], 0, h - 1))
        keep[labels[y, x]] = True
    keep[0] = False
    if not keep.any():  # torso centre not on the mask: keep the largest component
        sizes = np.bincount(labels.ravel())
        sizes[0] = 0
        keep[int(np.argmax(sizes))] = True
    return keep[labels]


def body_from_person(person: PersonAnalysis) -> Body:
    """Build the warp's view of a ``PersonAnalysis`` (keypoints plus masks)."""
    kp = {k: np.asarray(v, np.float64) for k, v in person.keypoints.items()}
    lm = np.asarray(person.pose.landmarks, np.float64)
    # The legs straight from the pose, in case the analysis does not name them.
    for name, landmark in (
        ("l_knee", Landmark.LEFT_KNEE),
        ("r_knee", Landmark.RIGHT_KNEE),
        ("l_ankle", Landmark.LEFT_ANKLE),
        ("r_ankle", Landmark.RIGHT_ANKLE),
    ):
        kp.setdefault(name, lm[landmark])
    regions = person.regions
    arms = np.zeros(person.mask.shape, bool)
    for key in ("arms", "hands"):
        if key in regions:
            arms |= regions[key]
    head = regions.get("face_hair_neck", np.zeros_like(arms))
    # The trunk the new garment must cover: the old garment plus bare torso skin; rows where
    # the analysis found neither fall back to the silhouette without arms and head.
    # Arms hanging against the sides are not trunk: counting them made every top too wide.
    torso = (regions.get("upper_garment", np.zeros_like(arms)) | regions.get("torso_skin", np.zeros_like(arms))) & ~arms
    bare = person.mask & ~arms & ~head
    empty_rows = ~torso.any(axis=1)
    torso[empty_rows] = bare[empty_rows]
    return Body(
        shape=person.mask.shape,
        kp=kp,
        torso=torso,
        arms=arms,
        lower=regions.get("lower_body"),
        one_piece=person.one_piece,
    )
