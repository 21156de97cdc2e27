"""The self-check that decides whether a result is delivered, and the garment shapes that used to crash the fit."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from imaging.errors import PipelineError
from imaging.tryon.classical.body import Body
from imaging.tryon.classical.categories.tops import top_outline
from imaging.tryon.classical.compose import Composite
from imaging.tryon.classical.selfcheck import (
    ENV_MIN_SCORE,
    ERROR_CODE,
    enforce,
    expected_zone,
    min_score_from_env,
    self_check,
)
from imaging.tryon.classical.warp import warp_piece
from imaging.types import Box, Category

H, W = 800, 500
KP = {
    name: np.array(p, float)
    for name, p in {
        "l_shoulder": (320, 200),
        "r_shoulder": (180, 200),
        "l_elbow": (345, 320),
        "r_elbow": (155, 320),
        "l_wrist": (355, 430),
        "r_wrist": (145, 430),
        "l_hip": (290, 430),
        "r_hip": (210, 430),
        "l_knee": (295, 620),
        "r_knee": (205, 620),
        "l_ankle": (295, 780),
        "r_ankle": (205, 780),
    }.items()
}


def body() -> Body:
    torso = np.zeros((H, W), bool)
    torso[200:430, 180:320] = True
    return Body(shape=(H, W), kp=KP, torso=torso, arms=np.zeros((H, W), bool))


def composite(alpha: np.ndarray, revealed: np.ndarray, skin: np.ndarray | None = None) -> Composite:
    empty = np.zeros((H, W), bool)
    return Composite(
        image=np.zeros((H, W, 3), np.uint8),
        edited_mask=(alpha > 0) | revealed,
        garment_alpha=alpha.astype(np.float32),
        revealed=revealed,
        shading=np.ones((H, W), np.float32),
        skin=empty if skin is None else skin,
        in_front=empty,
    )


def test_a_garment_on_the_chest_passes_and_one_beside_the_body_fails():
    b = body()
    old = np.zeros((H, W), bool)
    old[190:440, 170:330] = True
    on_body = old.astype(np.float32)
    good = self_check(composite(on_body, np.zeros((H, W), bool)), b, Category.TOPS, person=old)
    assert good.coverage > 0.95 and good.invented == 0 and good.off_body == 0 and good.score > 0.9
    enforce(good, 0.35)

    # The same garment pasted a body's width to the side: the old garment is all made up, the chest bare,
    # the garment off the body.
    beside = np.roll(on_body, 170, axis=1)
    revealed = old & (beside < 0.5)
    bad = self_check(composite(beside, revealed, skin=revealed), b, Category.TOPS, person=old)
    assert bad.coverage < 0.05 and bad.invented > 0.4 and bad.skin == bad.invented
    assert bad.off_body > 0.8  # beside the person's silhouette
    with pytest.raises(PipelineError) as exc:
        enforce(bad, 0.35)
    assert exc.value.code == ERROR_CODE


def test_zones_sit_on_the_chest_for_tops_and_on_the_hips_for_bottoms():
    b = body()
    ys_top, _ = np.nonzero(expected_zone(b, Category.TOPS))
    ys_bottom, _ = np.nonzero(expected_zone(b, Category.BOTTOMS))
    assert ys_top.min() > 200 and ys_top.max() < 430
    assert ys_bottom.min() >= 425 and ys_bottom.max() < 620


def test_threshold_from_the_environment(monkeypatch):
    monkeypatch.delenv(ENV_MIN_SCORE, raising=False)
    default = min_score_from_env()
    assert 0 < default < 1
    monkeypatch.setenv(ENV_MIN_SCORE, "0.8")
    assert min_score_from_env() == 0.8
    monkeypatch.setenv(ENV_MIN_SCORE, "high")
    with pytest.raises(ValueError):
        min_score_from_env()


def test_a_dress_split_down_the_middle_gets_finite_landmarks():
    """No run through the centre column between armpits and hem (a slit from the chest down):
    the waist used to be a row without a run, NaN, and the spline then failed to converge."""
    mask = np.zeros((600, 400), np.uint8)
    cv2.fillPoly(mask, [np.array([(140, 20), (260, 20), (330, 150), (340, 580), (60, 580), (70, 150)], np.int32)], 1)
    mask[60:560, 195:206] = 0  # the slit
    outline = top_outline(mask.astype(bool))
    for name, p in outline.landmarks.items():
        assert np.isfinite(p).all(), name


def test_warp_ignores_a_landmark_that_could_not_be_placed():
    rgb = np.full((100, 100, 3), 120, np.float32)
    alpha = np.ones((100, 100), np.float32)
    garment_pts = np.array([[10, 10], [90, 10], [10, 90], [90, 90], [50, 50]], float)
    body_pts = garment_pts * 2 + 5
    body_pts[4] = np.nan
    piece = warp_piece("torso", rgb, alpha, body_pts, garment_pts, Box(0, 0, 250, 250))
    assert piece is not None and np.isfinite(piece.map_x).all()
    assert piece.alpha[100, 100] > 0.99 and piece.alpha[240, 240] == 0


def test_bared_midriff_reaches_the_body_s_outline_not_the_joints_straight_sides():
    """A shorter new top bares the midriff: the skin goes out to the person's own outline (here wider
    than the line from shoulder joint to hip), and not past it into a loose old garment's excess."""
    from imaging.tryon.classical.compose import skin_zone

    b = body()
    b.torso[:] = False
    b.torso[200:440, 165:335] = True  # the trunk, 15 px outside the joints on each side
    revealed = np.zeros((H, W), bool)
    revealed[330:420, 120:380] = True  # old garment under the new hem, looser than the body
    torso_piece = np.zeros((H, W), np.float32)
    torso_piece[190:330, 170:330] = 1
    zone = skin_zone(revealed, {"torso": torso_piece}, {"upper_garment": revealed}, b)
    row = zone[380]
    assert row[172] and row[328]  # out to the outline (the joints' line is at about 187 and 313)
    assert not row[150] and not row[350]  # beyond it: the old garment's excess, not skin


@pytest.mark.parametrize(
    ("measure", "slight", "limit", "said"),
    [
        # The torso's warp folded over itself (streaks and smears on the body).
        ("folded", 0.02, "MAX_FOLDED", "folded over itself"),
        # A sleeve stretched into streaks (smeared or swirled about a sharply bent arm).
        ("streaked", 0.05, "MAX_STREAKED", "streaks"),
    ],
)
def test_a_folded_or_streaked_fit_is_refused(measure: str, slight: float, limit: str, said: str):
    """A garment on the chest scores well with a little of it folded or a few streaked pixels on a
    sleeve; the same result over the limit scores 0 and fails, saying why."""
    from imaging.tryon.classical import selfcheck

    b = body()
    old = np.zeros((H, W), bool)
    old[190:440, 170:330] = True
    comp = composite(old.astype(np.float32), np.zeros((H, W), bool))
    passed = self_check(comp, b, Category.TOPS, person=old, **{measure: slight})
    assert passed.score > 0.9 and passed.as_info()[f"self_check_{measure}"] == slight
    over = getattr(selfcheck, limit) + 0.05
    refused = self_check(comp, b, Category.TOPS, person=old, **{measure: over})
    assert refused.score == 0.0
    with pytest.raises(PipelineError) as exc:
        enforce(refused, 0.35)
    assert said in exc.value.message
