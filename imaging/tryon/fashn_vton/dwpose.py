"""DWPose whole-body pose with ONNX Runtime: YOLOX person boxes, then SimCC keypoints per box.

Our numpy implementation of the processing FASHN VTON feeds its model with, so
the pose image matches what the model was trained on. Facts from upstream
(fashn-AI/fashn-vton-1.5 ``src/fashn_vton/dwpose/``, Apache-2.0, itself from
IDEA-Research/DWPose):

- Input is BGR uint8. Detector: letterbox top-left into 640x640 on gray 114 with
  one ratio r = min(640/h, 640/w) (bilinear), float32 CHW 0-255; decode anchors
  of strides 8/16/32 ((d + grid) * stride, exp(log wh) * stride), score =
  objectness * class score, NMS at IoU 0.45 over scores > 0.1, keep class 0
  ("person") with score > 0.3.
- Keypoints: per box, centre and scale = box size * 1.25, scale widened to the
  model's aspect 288/384, an affine warp (bilinear) to 288x384, normalised
  with mean (123.675, 116.28, 103.53) and std (58.395, 57.12, 57.375) on the BGR
  channels; SimCC decode: argmax of each axis / 2, score = the smaller of the two
  maxima, location -1 where the score <= 0; mapped back by
  ``loc / input_size * scale + centre - scale / 2``.
- No box: the whole image is one box.
- 133 COCO-WholeBody keypoints -> OpenPose-18 body order with a neck (mean of
  the shoulders, visible when both shoulders score > 0.3), then 6 feet, 68 face,
  2x21 hands. One person: the one with the largest (summed visible score of
  body points 1-13) x (area of their bounding box).
- Visibility threshold 0.3; coordinates normalised by the image's width and height;
  invisible points set to -1.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import onnxruntime as ort

VISIBLE = 0.3
DETECTOR_SIZE = (640, 640)  # (h, w)
DETECTOR_STRIDES = (8, 16, 32)
NMS_IOU = 0.45
SCORE_MIN = 0.1
PERSON_MIN = 0.3
BOX_PADDING = 1.25
SIMCC_SPLIT = 2.0
POSE_MEAN = np.array([123.675, 116.28, 103.53])
POSE_STD = np.array([58.395, 57.12, 57.375])
# Our limit: upstream runs the keypoint model on every box; a crowd photo would run it
# hundreds of times. The best boxes by score are enough to pick the main person.
MAX_BOXES = 10
# COCO-WholeBody (mmpose) index -> OpenPose-18 body index (upstream wholebody.py).
MMPOSE_IDX = [17, 6, 8, 10, 7, 9, 12, 14, 16, 13, 15, 2, 1, 4, 3]
OPENPOSE_IDX = [1, 2, 3, 4, 6, 7, 8, 9, 10, 12, 13, 14, 15, 16, 17]


@dataclass
class Pose:
    """One person's keypoints, coordinates normalised to [0, 1] by the image size; -1 where not visible."""

    body: np.ndarray  # (18, 2) OpenPose order
    body_score: np.ndarray  # (18,)
    hands: np.ndarray  # (2, 21, 2)
    face: np.ndarray  # (68, 2)
    box: np.ndarray | None  # (4,) x0, y0, x1, y1 in pixels of the image the pose came from; None: no detection

    @property
    def visible_body(self) -> np.ndarray:
        return self.body_score > VISIBLE

    @staticmethod
    def empty() -> Pose:
        """No person (flat-lay garments): nothing is drawn."""
        return Pose(
            body=-np.ones((18, 2)),
            body_score=-np.ones(18),
            hands=-np.ones((2, 21, 2)),
            face=-np.ones((68, 2)),
            box=None,
        )


# --------------------------------------------------------------------------- detector


def letterbox(bgr: np.ndarray, size: tuple[int, int] = DETECTOR_SIZE) -> tuple[np.ndarray, float]:
    """(1, 3, h, w) float32 0-255 input and the ratio from the image to it."""
    h, w = bgr.shape[:2]
    r = min(size[0] / h, size[1] / w)
    nh, nw = int(h * r), int(w * r)
    padded = np.full((size[0], size[1], 3), 114, dtype=np.uint8)
    padded[:nh, :nw] = cv2.resize(bgr, (nw, nh), interpolation=cv2.INTER_LINEAR)
    return np.ascontiguousarray(padded.transpose(2, 0, 1)[None], dtype=np.float32), r


def decode_anchors(output: np.ndarray, size: tuple[int, int] = DETECTOR_SIZE) -> np.ndarray:
    """(N, 85) raw predictions -> (N, 85) with centre x, y and width, height in input pixels."""
    grids, strides = [], []
    for stride in DETECTOR_STRIDES:
        hs, ws = size[0] // stride, size[1] // stride
        xv, yv = np.meshgrid(np.arange(ws), np.arange(hs))
        grids.append(np.stack((xv, yv), 2).reshape(-1, 2))
        strides.append(np.full((hs * ws, 1), stride))
    grid, stride_col = np.concatenate(grids), np.concatenate(strides)
    out = output.astype(np.float64, copy=True)
    out[:, :2] = (out[:, :2] + grid) * stride_col
    out[:, 2:4] = np.exp(out[:, 2:4]) * stride_col
    return out


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> list[int]:
    """Greedy non-maximum suppression (boxes x0, y0, x1, y1; areas with YOLOX's +1 convention)."""
    x0, y0, x1, y1 = boxes.T
    areas = (x1 - x0 + 1) * (y1 - y0 + 1)
    order = scores.argsort()[::-1]
    keep = []
    while order.size > 0:
        i = order[0]
        keep.append(int(i))
        rest = order[1:]
        w = np.maximum(0.0, np.minimum(x1[i], x1[rest]) - np.maximum(x0[i], x0[rest]) + 1)
        h = np.maximum(0.0, np.minimum(y1[i], y1[rest]) - np.maximum(y0[i], y0[rest]) + 1)
        inter = w * h
        order = rest[inter / (areas[i] + areas[rest] - inter) <= iou]
    return keep


def person_boxes(output: np.ndarray, ratio: float) -> tuple[np.ndarray, np.ndarray]:
    """Detector output (1, N, 85) -> person boxes (K, 4) in image pixels and their scores, best first.

    Class-aware NMS as upstream, then only class 0 above 0.3; at most MAX_BOXES.
    """
    pred = decode_anchors(output[0])
    cx, cy, bw, bh = pred[:, 0], pred[:, 1], pred[:, 2], pred[:, 3]
    boxes = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], axis=1) / ratio
    # Only class 0 survives the final filter, and NMS is per class, so the other classes need no NMS.
    scores = pred[:, 4] * pred[:, 5]
    candidates = scores > SCORE_MIN
    boxes, scores = boxes[candidates], scores[candidates]
    if not len(scores):
        return np.zeros((0, 4)), np.zeros(0)
    keep = nms(boxes, scores, NMS_IOU)
    boxes, scores = boxes[keep], scores[keep]
    person = scores > PERSON_MIN
    boxes, scores = boxes[person], scores[person]
    order = np.argsort(-scores, kind="stable")[:MAX_BOXES]
    return boxes[order], scores[order]


# --------------------------------------------------------------------------- keypoints


def box_to_centre_scale(box: np.ndarray, padding: float = BOX_PADDING) -> tuple[np.ndarray, np.ndarray]:
    x0, y0, x1, y1 = box
    return np.array([x0 + x1, y0 + y1]) * 0.5, np.array([x1 - x0, y1 - y0]) * padding


def fix_aspect(scale: np.ndarray, aspect: float) -> np.ndarray:
    """Widen the box's (w, h) to the model's aspect w/h without shrinking either side."""
    w, h = scale
    return np.array([w, w / aspect]) if w > h * aspect else np.array([h * aspect, h])


def warp_matrix(centre: np.ndarray, scale: np.ndarray, out_size: tuple[int, int]) -> np.ndarray:
    """The 2x3 affine taking the box (centre, scale w x h) to the (w, h) model input, no rotation.

    Built, as mmpose does, from three point pairs: the centre, a point half a box
    width above it, and that vector turned 90 degrees.
    """
    dst_w, dst_h = out_size
    src_dir = np.array([0.0, scale[0] * -0.5])
    dst_dir = np.array([0.0, dst_w * -0.5])
    src = np.zeros((3, 2), dtype=np.float32)
    dst = np.zeros((3, 2), dtype=np.float32)
    src[0], src[1] = centre, centre + src_dir
    dst[0] = [dst_w * 0.5, dst_h * 0.5]
    dst[1] = dst[0] + dst_dir
    for pts in (src, dst):
        d = pts[0] - pts[1]
        pts[2] = pts[1] + np.array([-d[1], d[0]])
    return cv2.getAffineTransform(src, dst)


def crop_for_pose(
    bgr: np.ndarray, box: np.ndarray, in_size: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(1, 3, h, w) normalised crop, centre and (aspect-fixed) scale for one box; in_size is (w, h)."""
    centre, scale = box_to_centre_scale(box)
    scale = fix_aspect(scale, in_size[0] / in_size[1])
    crop = cv2.warpAffine(bgr, warp_matrix(centre, scale, in_size), in_size, flags=cv2.INTER_LINEAR)
    crop = (crop - POSE_MEAN) / POSE_STD
    return np.ascontiguousarray(crop.transpose(2, 0, 1)[None], dtype=np.float32), centre, scale


def decode_simcc(simcc_x: np.ndarray, simcc_y: np.ndarray, split: float = SIMCC_SPLIT) -> tuple[np.ndarray, np.ndarray]:
    """(N, K, Wx), (N, K, Wy) -> locations (N, K, 2) in model-input pixels and scores (N, K)."""
    n, k, _ = simcc_x.shape
    sx, sy = simcc_x.reshape(n * k, -1), simcc_y.reshape(n * k, -1)
    locs = np.stack([np.argmax(sx, axis=1), np.argmax(sy, axis=1)], axis=-1).astype(np.float32)
    vals = np.minimum(np.amax(sx, axis=1), np.amax(sy, axis=1))
    locs[vals <= 0.0] = -1
    return locs.reshape(n, k, 2) / split, vals.reshape(n, k)


def to_openpose(keypoints: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(P, 133, 2), (P, 133) COCO-WholeBody -> (P, 134, 2), (P, 134) with the neck inserted at 17 and the body
    reordered to OpenPose-18."""
    info = np.concatenate([keypoints, scores[..., None]], axis=-1)
    neck = np.mean(info[:, [5, 6]], axis=1)
    neck[:, 2] = np.logical_and(info[:, 5, 2] > VISIBLE, info[:, 6, 2] > VISIBLE).astype(int)
    info = np.insert(info, 17, neck, axis=1)
    info[:, OPENPOSE_IDX] = info[:, MMPOSE_IDX]
    return info[..., :2], info[..., 2]


def best_person(keypoints: np.ndarray, scores: np.ndarray) -> int:
    """The main person: visible-score sum of body points 1-13 times their bounding-box area.

    As upstream, the visibility mask of the first person decides which points
    count for every person's area (a quirk kept so the same person is chosen).
    """
    valid = scores[:, 1:14] > VISIBLE
    summed = np.sum(scores[:, 1:14] * valid, axis=1)
    areas = []
    for kp in keypoints[:, 1:14]:
        pts = kp[valid[0]]
        xs, ys = pts[:, 0][pts[:, 0] > 0], pts[:, 1][pts[:, 1] > 0]
        areas.append(0.0 if not len(xs) or not len(ys) else (xs.max() - xs.min()) * (ys.max() - ys.min()))
    with np.errstate(invalid="ignore", over="ignore"):
        weighted = summed * np.array(areas)
    weighted[~np.isfinite(weighted)] = 0
    return int(np.argmax(summed)) if np.all(weighted == 0) else int(np.argmax(weighted))


def select_pose(keypoints: np.ndarray, scores: np.ndarray, width: int, height: int, box: np.ndarray | None) -> Pose:
    """OpenPose-ordered keypoints of P people -> the main person's Pose, normalised, invisible points at -1."""
    i = best_person(keypoints, scores) if len(keypoints) > 1 else 0
    kp = keypoints[i].astype(np.float64, copy=True)
    sc = scores[i].astype(np.float64, copy=True)
    kp[:, 0] /= float(width)
    kp[:, 1] /= float(height)
    # The body keeps its coordinates (drawing skips points by score); the rest is set to -1 when not visible.
    body = kp[:18].copy()
    kp[sc < VISIBLE] = -1
    return Pose(
        body=body,
        body_score=sc[:18],
        hands=np.stack([kp[92:113], kp[113:134]]),
        face=kp[24:92],
        box=box,
    )


class DWPose:
    """The two DWPose sessions and the full chain from a BGR image to one Pose."""

    def __init__(self, detector: ort.InferenceSession, keypoints: ort.InferenceSession) -> None:
        self.detector = detector
        self.keypoints = keypoints
        h, w = keypoints.get_inputs()[0].shape[2:]
        self.pose_input = (int(w), int(h))

    def boxes(self, bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        inp, ratio = letterbox(bgr)
        out = self.detector.run(None, {self.detector.get_inputs()[0].name: inp})[0]
        return person_boxes(out, ratio)

    def __call__(self, bgr: np.ndarray) -> Pose:
        h, w = bgr.shape[:2]
        boxes, _ = self.boxes(bgr)
        detected = len(boxes) > 0
        run_boxes = boxes if detected else np.array([[0.0, 0.0, float(w), float(h)]])
        name = self.keypoints.get_inputs()[0].name
        outputs = [o.name for o in self.keypoints.get_outputs()]
        all_kp, all_sc = [], []
        for box in run_boxes:
            crop, centre, scale = crop_for_pose(bgr, box, self.pose_input)
            simcc_x, simcc_y = self.keypoints.run(outputs, {name: crop})
            locs, vals = decode_simcc(simcc_x, simcc_y)
            all_kp.append(locs[0] / np.array(self.pose_input) * scale + centre - scale / 2)
            all_sc.append(vals[0])
        kp, sc = to_openpose(np.array(all_kp), np.array(all_sc))
        i = best_person(kp, sc) if len(kp) > 1 else 0
        pose = select_pose(kp[i : i + 1], sc[i : i + 1], w, h, run_boxes[i] if detected else None)
        return pose
