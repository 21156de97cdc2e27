"""The thin-plate spline and the piece warp."""

from __future__ import annotations

import numpy as np

from imaging.tryon.classical.geometry import ThinPlateSpline, apply_affine, similarity_fit
from imaging.tryon.classical.warp import warp_piece


def test_tps_maps_control_points_to_targets():
    rng = np.random.default_rng(1)
    src = rng.uniform(0, 500, (12, 2))
    dst = src + rng.normal(0, 20, src.shape)
    tps = ThinPlateSpline(src, dst)
    assert np.abs(tps(src) - dst).max() < 1e-6
    # Between the control points it is smooth: no wild values.
    mid = (src[:-1] + src[1:]) / 2
    assert np.abs(tps(mid) - mid).max() < 120


def test_tps_reproduces_affine_maps_exactly():
    src = np.array([[0, 0], [100, 0], [0, 100], [100, 100], [50, 30]], float)
    m = np.array([[1.2, 0.1, 5.0], [-0.2, 0.9, -3.0]])
    tps = ThinPlateSpline(src, apply_affine(m, src))
    probe = np.array([[10.0, 80.0], [70.0, 20.0], [300.0, -50.0]])
    assert np.allclose(tps(probe), apply_affine(m, probe), atol=1e-6)


def test_similarity_fit_recovers_rotation_scale_translation():
    angle, scale = 0.3, 1.7
    m = np.array(
        [[scale * np.cos(angle), -scale * np.sin(angle), 12.0], [scale * np.sin(angle), scale * np.cos(angle), -7.0]]
    )
    src = np.array([[0, 0], [10, 0], [0, 20], [15, 5]], float)
    assert np.allclose(similarity_fit(src, apply_affine(m, src)), m, atol=1e-9)


def test_warp_piece_moves_the_garment_to_the_targets():
    img = np.zeros((100, 100, 3), np.float32)
    alpha = np.zeros((100, 100), np.float32)
    img[40:60, 40:60] = (255, 0, 0)
    alpha[40:60, 40:60] = 1
    garment_pts = np.array([[40, 40], [60, 40], [40, 60], [60, 60]], float)
    body_pts = garment_pts * 2 + np.array([100, 50])  # twice as large, shifted
    piece = warp_piece("torso", img, alpha, body_pts, garment_pts, box=(0, 0, 300, 250))
    assert piece is not None
    ys, xs = np.nonzero(piece.alpha > 0.5)
    assert abs(xs.min() - 180) <= 2 and abs(xs.max() - 220) <= 2
    assert abs(ys.min() - 130) <= 2 and abs(ys.max() - 170) <= 2
    assert np.all(piece.rgb[150, 200] == (255, 0, 0))


def test_folded_share_is_zero_for_a_plain_warp_and_counts_a_fold():
    """A scaled, shifted garment does not fold; one whose middle landmarks are pulled past its outer
    ones reads its fabric in mirrored order there, which is what shows as a smear."""
    from imaging.tryon.classical.warp import WarpResult, folded_share
    from imaging.types import Box

    img = np.full((100, 100, 3), 200, np.float32)
    alpha = np.zeros((100, 100), np.float32)
    alpha[10:90, 10:90] = 1
    grid = np.array([[x, y] for y in (10, 50, 90) for x in (10, 50, 90)], float)
    plain = warp_piece("torso", img, alpha, grid * 1.5 + 20, grid, box=Box(0, 0, 200, 200))
    assert plain is not None
    assert folded_share(WarpResult(pieces=[plain]), "torso") == 0.0
    crossed = grid * 1.5 + 20
    crossed[3], crossed[5] = crossed[5].copy(), crossed[3].copy()  # the middle row's ends swapped
    folded = warp_piece("torso", img, alpha, crossed, grid, box=Box(0, 0, 200, 200))
    assert folded is not None
    assert folded_share(WarpResult(pieces=[folded]), "torso") > 0.2
    assert folded_share(WarpResult(pieces=[folded]), "l_sleeve") == 0.0  # no such piece


def test_streaked_share_counts_fabric_stretched_far_more_one_way_than_the_other():
    """Scaled alike both ways the fabric keeps its look; a thin strip spread four times wider than it is
    stretched along shows as streaks."""
    from imaging.tryon.classical.warp import WarpResult, streaked_share
    from imaging.types import Box

    img = np.full((100, 100, 3), 200, np.float32)
    alpha = np.ones((100, 100), np.float32)
    grid = np.array([[x, y] for y in (10, 50, 90) for x in (10, 50, 90)], float)
    even = warp_piece("l_sleeve", img, alpha, grid * 1.5 + 20, grid, box=Box(0, 0, 200, 200))
    assert even is not None
    assert streaked_share(WarpResult(pieces=[even]), "l_sleeve") == 0.0
    spread = warp_piece("l_sleeve", img, alpha, grid * np.array([2.0, 0.5]), grid, box=Box(0, 0, 200, 60))
    assert spread is not None
    assert streaked_share(WarpResult(pieces=[spread]), "l_sleeve") > 0.9
    assert streaked_share(WarpResult(pieces=[spread]), "r_sleeve") == 0.0  # no such piece
