"""Self-check: is this result good enough to deliver, or is the order better refunded?

The measures, all from what the composition and the warp did (no reference image exists):

* ``invented``: of the pixels the result shows as the new garment or as something made up in
  place of the old one (synthesised skin, the surroundings grown in), the made-up share. A fit that
  missed the body leaves most of the old garment to be invented; a good one covers it.
* ``coverage``: the share of the zone every garment of the category covers (a top's chest band,
  trousers' or a skirt's hips) that shows the new garment or what rightly stays in front of it
  (arms, hair). A garment warped off the body, or squeezed into a sliver, leaves it bare.

* ``off_body``: the share of the garment shown farther than a tenth of the shoulder width outside
  the person's silhouette: a garment bent off the body, or pieces of it left floating beside the legs
  (a loose garment stands off the body by less than that).

* ``old_visible`` (recorded and shown, not scored): the share of the old garment(s) the new one
  replaces that the result still shows unchanged, less what rightly stays in front of the new garment
  (an arm in its old sleeve): old trousers beside a new dress, an old skirt below its hem; or, when
  larger, the share of the old top about the shoulders that the result still shows in the old top's
  colours (``compose.old_top_left``: old straps, a T-shirt's shoulders beside new straps). Not
  scored: on the tuning half of the dev images, results that look right reach 0.07 (and 0.6 where an
  old dress rightly carries on below a crop top), while a black shoulder clearly left by the earlier
  composition measured 0.05; no threshold tells them apart.

* ``folded``: the share of the garment's body piece (a top's torso, the trousers) whose warp folds
  over itself (``warp.folded_share``): there the fabric shows as streaks and smears. Good fits on the
  tuning half fold under 3% of it, the streaked ones 9-14%: over ``MAX_FOLDED`` the score is 0.

* ``streaked``: the largest share of another piece (a sleeve) whose warp stretches the fabric far more
  one way than the other (``warp.streaked_share``), where it shows as streaks. On the tuning half of the
  dev images, sleeves stay under 2% of it, except on an arm sharply bent at the elbow (a hand on the
  hip): 7-17% where the sleeve still reads as fabric, 22-35% where it is smeared or swirled. Over
  ``MAX_STREAKED`` the score is 0.

``score = coverage * (1 - invented) * (1 - off_body)``; a result under the threshold fails the order with
``TRYON_SELF_CHECK_FAILED`` (the order domain refunds it). The threshold is
``CLASSICAL_TRYON_MIN_SCORE`` in the environment, or the caller's argument.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import cv2
import numpy as np

from imaging.errors import PipelineError
from imaging.types import Category

from .body import Body, body_core, depth_below_shoulders, shoulder_band, shoulder_box, torso_length
from .compose import Composite

ENV_MIN_SCORE = "CLASSICAL_TRYON_MIN_SCORE"
# Set from the tuning half of the dev images: good results score 0.7 and more, results where the
# garment missed the body under 0.3 (see bench/tryon.py).
DEFAULT_MIN_SCORE = 0.35
ERROR_CODE = "TRYON_SELF_CHECK_FAILED"
# More of the body piece folded than this, and the result is refused (see the module's docstring).
MAX_FOLDED = 0.06
# More of a sleeve streaked than this, and the result is refused (see the module's docstring).
MAX_STREAKED = 0.2


@dataclass(frozen=True)
class SelfCheck:
    coverage: float  # 0..1, the category's zone covered by the new garment (or what stays in front)
    invented: float  # 0..1, made-up share of (garment shown + made up)
    skin: float  # 0..1, synthesised-skin share of the same
    off_body: float  # 0..1, share of the garment shown well outside the person's silhouette
    score: float  # coverage * (1 - invented) * (1 - off_body)
    old_visible: float = 0.0  # 0..1, share of the replaced old garment still shown unchanged
    folded: float = 0.0  # 0..1, share of the body piece whose warp folds over itself
    streaked: float = 0.0  # 0..1, the largest share of another piece (a sleeve) its warp streaks

    def as_info(self) -> dict[str, float]:
        """Flat numbers to keep with the order's timings."""
        return {
            "self_check_score": round(self.score, 4),
            "self_check_coverage": round(self.coverage, 4),
            "self_check_invented": round(self.invented, 4),
            "self_check_skin": round(self.skin, 4),
            "self_check_off_body": round(self.off_body, 4),
            "self_check_old_visible": round(self.old_visible, 4),
            "self_check_folded": round(self.folded, 4),
            "self_check_streaked": round(self.streaked, 4),
        }


def min_score_from_env() -> float:
    raw = os.environ.get(ENV_MIN_SCORE, "").strip()
    if not raw:
        return DEFAULT_MIN_SCORE
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"{ENV_MIN_SCORE} must be a number between 0 and 1, not {raw!r}") from exc


def expected_zone(body: Body, category: Category) -> np.ndarray:
    """Where every garment of the category lies on this body, whatever its cut."""
    if category == Category.BOTTOMS:
        kp, u, sw = body.kp, body.u, body.shoulder_width
        # From the hip joints down a third of the way to the knees: shorts, skirts and trousers all cover it.
        l_low = kp["l_hip"] + (kp["l_knee"] - kp["l_hip"]) / 3
        r_low = kp["r_hip"] + (kp["r_knee"] - kp["r_hip"]) / 3
        poly = np.array([kp["r_hip"] - 0.05 * sw * u, kp["l_hip"] + 0.05 * sw * u, l_low, r_low])
        zone = np.zeros(body.shape, np.uint8)
        cv2.fillPoly(zone, [np.round(poly).astype(np.int32)], 1)
        return zone.astype(bool)
    # Tops and one-pieces: the chest band, which even a crop top or a bandeau covers.
    depth = depth_below_shoulders(body)
    tl = torso_length(body)
    return body_core(body) & (depth > 0.25 * tl) & (depth < 0.5 * tl)


def self_check(
    comp: Composite,
    body: Body,
    category: Category,
    person: np.ndarray | None = None,
    folded: float = 0.0,
    streaked: float = 0.0,
) -> SelfCheck:
    """``person``: the person's silhouette (HxW bool), for ``off_body`` (0 without it); ``folded``: the
    body piece's folded share (``warp.folded_share``); ``streaked``: the largest streaked share of the
    other pieces (``warp.streaked_share``)."""
    shown = comp.garment_alpha > 0.5
    made_up = comp.revealed & ~shown
    skin = made_up & (comp.skin if comp.skin is not None else np.zeros_like(made_up))
    total = int(shown.sum() + made_up.sum())
    invented = float(made_up.sum()) / total if total else 1.0
    skin_share = float(skin.sum()) / total if total else 0.0
    zone = expected_zone(body, category)
    front = comp.in_front if comp.in_front is not None else np.zeros_like(shown)
    coverage = float((zone & (shown | front)).sum()) / max(int(zone.sum()), 1) if zone.any() else 0.0
    off_body = 0.0
    if person is not None and shown.any():
        k = max(3, int(0.2 * body.shoulder_width) | 1)  # a tenth of the shoulder width each side
        near = cv2.dilate(person.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))) > 0
        off_body = float((shown & ~near).sum()) / float(shown.sum())
    old_visible = 0.0
    if comp.old is not None and comp.old.any():
        left = comp.old & ~comp.edited_mask & ~front
        old_visible = float(left.sum()) / float(comp.old.sum())
        if comp.old_top_left is not None and comp.old_top_left.any():
            # What shows the old top's colours about the shoulders, whatever the analysis called it (a
            # strap it took for neck, a shoulder it took for head), against the old top there: a strap
            # is small beside the whole garment, but it is what makes the result look edited.
            box = shoulder_box(body)
            if box is not None:
                band = shoulder_band(body.cropped(box))
                still = comp.old_top_left[box.slices] & band
                old_there = (comp.old[box.slices] | still) & band
                old_visible = max(old_visible, float(still.sum()) / max(int(old_there.sum()), 1))
    return SelfCheck(
        old_visible=old_visible,
        coverage=coverage,
        invented=invented,
        skin=skin_share,
        off_body=off_body,
        folded=folded,
        streaked=streaked,
        score=0.0 if folded > MAX_FOLDED or streaked > MAX_STREAKED else coverage * (1.0 - invented) * (1.0 - off_body),
    )


def enforce(check: SelfCheck, min_score: float) -> None:
    """Fail the order (refunded by the caller) when the result scores under ``min_score``."""
    if check.score < min_score:
        raise PipelineError(
            ERROR_CODE,
            f"The try-on result did not pass its quality check (score {check.score:.2f} < {min_score:.2f}: "
            f"garment covers {100 * check.coverage:.0f}% of where it belongs, {100 * check.invented:.0f}% of the "
            f"edit had to be made up, {100 * check.off_body:.0f}% of the garment off the body, "
            f"{100 * check.folded:.0f}% of it folded over itself, {100 * check.streaked:.0f}% of a sleeve "
            "stretched into streaks). "
            "Your credits are refunded. A front-facing photo with the upper body in "
            "view and a garment photographed flat and whole work best.",
        )
