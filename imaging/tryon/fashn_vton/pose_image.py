"""The grayscale pose image FASHN VTON was trained on, drawn from one Pose.

Facts from upstream (``src/fashn_vton/dwpose/utils.py`` ``draw_bodypose_gray``,
``draw_handpose_gray``, ``draw_facepose_gray``; ``pipeline.py`` draws with
``grayscale=True`` on a black canvas the size of the pre-resized photo):

- 17 limbs of the OpenPose-18 skeleton, limb i in gray ``linspace(20, 240, 18)[i]``,
  drawn as filled ellipses (half-width 4 px) on their own canvas, which is then
  scaled by 0.6 and max-combined with the canvas; integer pixel coordinates
  (truncated), angle truncated to whole degrees.
- Then each joint as a filled circle of radius 4, gray min(255, 1.3 x the gray of
  the first limb touching it).
- Hands: 20 edges, 2 px lines in ``linspace(160, 220, 20)``, joints radius 4 in
  240; face: radius-3 dots in 200; a point is drawn only when both coordinates
  are above 0.01 of the image (invisible points are -1).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from .dwpose import VISIBLE, Pose

LIMBS = [
    [2, 3], [2, 6], [3, 4], [4, 5], [6, 7], [7, 8], [2, 9], [9, 10], [10, 11],
    [2, 12], [12, 13], [13, 14], [2, 1], [1, 15], [15, 17], [1, 16], [16, 18],
]  # fmt: skip
LIMB_GRAY = np.linspace(20, 240, 18).astype(np.uint8)
HAND_EDGES = [
    [0, 1], [1, 2], [2, 3], [3, 4], [0, 5], [5, 6], [6, 7], [7, 8], [0, 9], [9, 10],
    [10, 11], [11, 12], [0, 13], [13, 14], [14, 15], [15, 16], [0, 17], [17, 18], [18, 19], [19, 20],
]  # fmt: skip
HAND_GRAY = np.linspace(160, 220, len(HAND_EDGES)).astype(np.uint8)
EPS = 0.01
STICK = 4


def _joint_gray() -> dict[int, int]:
    """Joint (1-based) -> gray of its first limb x 1.3."""
    first: dict[int, int] = {}
    for i, (a, b) in enumerate(LIMBS):
        first.setdefault(a, i)
        first.setdefault(b, i)
    return {j: min(255, int(LIMB_GRAY[i] * 1.3)) for j, i in first.items()}


JOINT_GRAY = _joint_gray()


def draw_body(canvas: np.ndarray, body: np.ndarray, visible: np.ndarray) -> np.ndarray:
    h, w = canvas.shape
    limbs = np.zeros_like(canvas)
    for i, (a, b) in enumerate(LIMBS):
        if not (visible[a - 1] and visible[b - 1]):
            continue
        xa, ya = int(body[a - 1][0] * w), int(body[a - 1][1] * h)
        xb, yb = int(body[b - 1][0] * w), int(body[b - 1][1] * h)
        length = int(math.hypot(xa - xb, ya - yb))
        angle = int(math.degrees(math.atan2(ya - yb, xa - xb)))
        poly = np.asarray(
            cv2.ellipse2Poly(((xa + xb) // 2, (ya + yb) // 2), (length // 2, STICK), angle, 0, 360, 1), dtype=np.int32
        )
        cv2.fillConvexPoly(limbs, poly, int(LIMB_GRAY[i]))
    canvas = np.maximum(canvas, (limbs * 0.6).astype(np.uint8))
    for joint in range(1, 19):
        if joint in JOINT_GRAY and visible[joint - 1]:
            x, y = int(body[joint - 1][0] * w), int(body[joint - 1][1] * h)
            cv2.circle(canvas, (x, y), 4, JOINT_GRAY[joint], thickness=-1)
    return canvas


def draw_hands(canvas: np.ndarray, hands: np.ndarray) -> np.ndarray:
    h, w = canvas.shape
    for peaks in hands:
        for i, (a, b) in enumerate(HAND_EDGES):
            x1, y1 = int(peaks[a][0] * w), int(peaks[a][1] * h)
            x2, y2 = int(peaks[b][0] * w), int(peaks[b][1] * h)
            if x1 > EPS and y1 > EPS and x2 > EPS and y2 > EPS:
                cv2.line(canvas, (x1, y1), (x2, y2), int(HAND_GRAY[i]), thickness=2)
        for x, y in peaks:
            px, py = int(x * w), int(y * h)
            if px > EPS and py > EPS:
                cv2.circle(canvas, (px, py), 4, 240, thickness=-1)
    return canvas


def draw_face(canvas: np.ndarray, face: np.ndarray) -> np.ndarray:
    h, w = canvas.shape
    for x, y in face:
        px, py = int(x * w), int(y * h)
        if px > EPS and py > EPS:
            cv2.circle(canvas, (px, py), 3, 200, thickness=-1)
    return canvas


def draw_pose(pose: Pose, height: int, width: int) -> np.ndarray:
    """HxW uint8: body, then hands, then face, as upstream layers them."""
    canvas = np.zeros((height, width), dtype=np.uint8)
    canvas = draw_body(canvas, pose.body, pose.body_score > VISIBLE)
    canvas = draw_hands(canvas, pose.hands)
    return draw_face(canvas, pose.face)
