"""BlazePose (MediaPipe's pose detector + full landmark model) on ONNX Runtime, in plain numpy.

The chain follows MediaPipe's ``pose_landmark_cpu`` graph in static-image mode:

1. detector: the image letterboxed to 224x224 in [-1, 1]; 2254 SSD anchors; score sigmoid; boxes and 4 keypoints
   decoded; weighted non-maximum suppression;
2. region of interest: a square centred on the detector's hip-centre keypoint, side 2.5x the distance to its
   body-scale keypoint, rotated so the hips-to-body-centre vector points up;
3. landmark model on that rotated 256x256 crop in [0, 1]: 33 landmarks (refined on the heatmaps), visibility,
   and a person segmentation mask;
4. a second landmark pass on the region the first pass's auxiliary landmarks give (what MediaPipe's tracking does
   on the next video frame): the crop is then centred and scaled by the landmark network itself, which is better
   than the detector's estimate;
5. landmarks and mask projected back to the image.

Landmark indices (BlazePose topology) are :class:`Landmark`; odd = the person's left, even = right. Model
files, input sizes and normalisation come from the model registry (``models/manifest.json``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from functools import lru_cache

import cv2
import numpy as np

from imaging.errors import PipelineError
from imaging.models import ModelSpec, model


def detector() -> ModelSpec:
    return model("pose_detection.onnx")


def landmarker() -> ModelSpec:
    return model("pose_landmark_full.onnx")


DETECTOR_SIZE = detector().input.size[0]  # the detector's square input (the anchors are laid out on it)
LANDMARK_SIZE = landmarker().input.size[0]  # the landmark model's square crop
MIN_DETECTION_SCORE = 0.5  # MediaPipe's min_detection_confidence default
# Weaker detections are kept as candidates: a second person beside the first often scores only 0.4-0.5
# (two astronauts side by side: 0.71 and 0.49), while the dev photos of one person show nothing above 0.1.
CANDIDATE_SCORE = 0.3
NMS_IOU = 0.3
MIN_PRESENCE = 0.5  # the landmark model's own "a person is in this crop" score
MIN_VISIBILITY = 0.5  # a landmark less visible than this is not trusted
ROI_SCALE = 1.25  # MediaPipe's RectTransformationCalculator scale for pose


class Landmark(IntEnum):
    """BlazePose's 33 body landmarks; LEFT / RIGHT are the person's own sides."""

    NOSE = 0
    LEFT_EYE_INNER = 1
    LEFT_EYE = 2
    LEFT_EYE_OUTER = 3
    RIGHT_EYE_INNER = 4
    RIGHT_EYE = 5
    RIGHT_EYE_OUTER = 6
    LEFT_EAR = 7
    RIGHT_EAR = 8
    MOUTH_LEFT = 9
    MOUTH_RIGHT = 10
    LEFT_SHOULDER = 11
    RIGHT_SHOULDER = 12
    LEFT_ELBOW = 13
    RIGHT_ELBOW = 14
    LEFT_WRIST = 15
    RIGHT_WRIST = 16
    LEFT_PINKY = 17
    RIGHT_PINKY = 18
    LEFT_INDEX = 19
    RIGHT_INDEX = 20
    LEFT_THUMB = 21
    RIGHT_THUMB = 22
    LEFT_HIP = 23
    RIGHT_HIP = 24
    LEFT_KNEE = 25
    RIGHT_KNEE = 26
    LEFT_ANKLE = 27
    RIGHT_ANKLE = 28
    LEFT_HEEL = 29
    RIGHT_HEEL = 30
    LEFT_FOOT_INDEX = 31
    RIGHT_FOOT_INDEX = 32


BODY_LANDMARKS = len(Landmark)
# The landmark model's two extra points after the 33 body landmarks: the next crop's centre and scale point.
AUX_HIP_CENTRE = 33
AUX_BODY_SCALE = 34
# Rows of the landmark output: (x, y, z, visibility, presence) each; 33 body, 2 auxiliary, 4 unused.
ALL_LANDMARKS = landmarker().output("landmarks").shape[-1] // 5
# Columns of a landmark row.
X, Y, Z, VISIBILITY, PRESENCE = range(5)


class DetectorKeypoint(IntEnum):
    """The pose detector's 4 keypoints per person."""

    HIP_CENTRE = 0
    BODY_SCALE = 1  # on the full-body circle around the hip centre: its distance is the body's radius
    SHOULDER_CENTRE = 2
    UPPER_BODY_SCALE = 3


_L = Landmark
SKELETON = (
    (_L.LEFT_SHOULDER, _L.RIGHT_SHOULDER), (_L.LEFT_SHOULDER, _L.LEFT_ELBOW), (_L.LEFT_ELBOW, _L.LEFT_WRIST),
    (_L.RIGHT_SHOULDER, _L.RIGHT_ELBOW), (_L.RIGHT_ELBOW, _L.RIGHT_WRIST), (_L.LEFT_SHOULDER, _L.LEFT_HIP),
    (_L.RIGHT_SHOULDER, _L.RIGHT_HIP), (_L.LEFT_HIP, _L.RIGHT_HIP), (_L.LEFT_HIP, _L.LEFT_KNEE),
    (_L.LEFT_KNEE, _L.LEFT_ANKLE), (_L.RIGHT_HIP, _L.RIGHT_KNEE), (_L.RIGHT_KNEE, _L.RIGHT_ANKLE),
    (_L.LEFT_ANKLE, _L.LEFT_HEEL), (_L.LEFT_HEEL, _L.LEFT_FOOT_INDEX), (_L.RIGHT_ANKLE, _L.RIGHT_HEEL),
    (_L.RIGHT_HEEL, _L.RIGHT_FOOT_INDEX), (_L.LEFT_WRIST, _L.LEFT_PINKY), (_L.LEFT_WRIST, _L.LEFT_INDEX),
    (_L.LEFT_WRIST, _L.LEFT_THUMB), (_L.RIGHT_WRIST, _L.RIGHT_PINKY), (_L.RIGHT_WRIST, _L.RIGHT_INDEX),
    (_L.RIGHT_WRIST, _L.RIGHT_THUMB), (_L.NOSE, _L.LEFT_EYE), (_L.NOSE, _L.RIGHT_EYE),
    (_L.LEFT_EYE, _L.LEFT_EAR), (_L.RIGHT_EYE, _L.RIGHT_EAR), (_L.MOUTH_LEFT, _L.MOUTH_RIGHT),
)  # fmt: skip


@dataclass
class Detection:
    score: float
    box: np.ndarray  # (4,) x0, y0, x1, y1 in image pixels
    keypoints: np.ndarray  # (4, 2) image pixels: hip centre, full-body scale point, shoulder centre, upper-body point


@dataclass
class Roi:
    center: np.ndarray  # (2,) image pixels
    size: float  # side of the square, image pixels
    rotation: float  # radians; 0 = upright person

    def crop_to_image(self) -> np.ndarray:
        """2x3 affine taking landmark-crop pixels (0..256) to image pixels."""
        c, s = np.cos(self.rotation), np.sin(self.rotation)
        a = self.size / LANDMARK_SIZE * np.array([[c, -s], [s, c]])
        b = self.center - a @ np.array([LANDMARK_SIZE / 2, LANDMARK_SIZE / 2])
        return np.hstack([a, b[:, None]]).astype(np.float64)

    def corners(self) -> np.ndarray:
        m = self.crop_to_image()
        square = np.array([[0, 0], [LANDMARK_SIZE, 0], [LANDMARK_SIZE, LANDMARK_SIZE], [0, LANDMARK_SIZE]], float)
        return square @ m[:, :2].T + m[:, 2]


@dataclass
class Pose:
    landmarks: np.ndarray  # (33, 2) float32, pixel coords in the input image, indexed by Landmark
    visibility: np.ndarray  # (33,) float32 in [0,1] (sigmoid applied)
    mask: np.ndarray  # HxW float32 person probability in [0,1], full image size
    detections: int  # number of people the detector found above threshold (after NMS)
    score: float  # detector score of the person analysed
    presence: np.ndarray = field(default_factory=lambda: np.zeros(BODY_LANDMARKS, np.float32))  # (33,) in [0,1]
    depth: np.ndarray = field(default_factory=lambda: np.zeros(BODY_LANDMARKS, np.float32))  # (33,) z, pixels, hips ~ 0
    pose_score: float = 0.0  # the landmark model's presence score for the crop
    roi: Roi | None = None  # the crop the landmarks came from
    # every detection after NMS down to CANDIDATE_SCORE, best first (people[0] is the one analysed)
    people: list[Detection] = field(default_factory=list)

    def point(self, landmark: Landmark) -> np.ndarray:
        return self.landmarks[landmark]


# --------------------------------------------------------------------------- detector


@lru_cache(maxsize=1)
def anchors() -> np.ndarray:
    """(2254, 2) anchor centres in [0, 1], as MediaPipe's SsdAnchorsCalculator builds them for pose detection.

    Options: 5 layers, strides 8, 16, 32, 32, 32, aspect ratio 1 plus one interpolated anchor per layer,
    fixed anchor size (so only the centres matter). Layers sharing a stride share the grid: 2 anchors per cell
    on the 28x28 grid, 2 on 14x14, 6 on 7x7.
    """
    strides = [8, 16, 32, 32, 32]
    centres = []
    layer = 0
    while layer < len(strides):
        last = layer
        per_cell = 0
        while last < len(strides) and strides[last] == strides[layer]:
            per_cell += 2  # the aspect-ratio-1 anchor and the interpolated-scale one
            last += 1
        cells = int(np.ceil(DETECTOR_SIZE / strides[layer]))
        ys, xs = np.mgrid[:cells, :cells]
        grid = np.stack([(xs + 0.5) / cells, (ys + 0.5) / cells], axis=-1).reshape(-1, 1, 2)
        centres.append(np.repeat(grid, per_cell, axis=1).reshape(-1, 2))
        layer = last
    return np.concatenate(centres).astype(np.float32)


def _letterbox(rgb: np.ndarray, size: int) -> tuple[np.ndarray, float, np.ndarray]:
    """Fit the image in a size x size square, aspect kept, black border; returns the image, scale and offset."""
    h, w = rgb.shape[:2]
    scale = size / max(h, w)
    offset = np.array([(size - w * scale) / 2, (size - h * scale) / 2])
    m = np.array([[scale, 0, offset[0]], [0, scale, offset[1]]])
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    boxed = cv2.warpAffine(rgb, m, (size, size), flags=interpolation, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return boxed, scale, offset


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    x0 = np.maximum(box[0], boxes[:, 0])
    y0 = np.maximum(box[1], boxes[:, 1])
    x1 = np.minimum(box[2], boxes[:, 2])
    y1 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-9)


def _weighted_nms(
    scores: np.ndarray, boxes: np.ndarray, keypoints: np.ndarray
) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """MediaPipe's WEIGHTED non-maximum suppression: each kept detection is the score-weighted mean of its cluster."""
    order = np.argsort(-scores)
    remaining = order
    out = []
    while remaining.size:
        best = remaining[0]
        overlap = _iou(boxes[best], boxes[remaining])
        cluster = remaining[overlap > NMS_IOU]
        weights = scores[cluster][:, None]
        box = (boxes[cluster] * weights).sum(0) / weights.sum()
        kps = (keypoints[cluster] * weights[:, :, None]).sum(0) / weights.sum()
        out.append((float(scores[best]), box, kps))
        remaining = remaining[overlap <= NMS_IOU]
    return out


def _decode(rgb: np.ndarray, min_score: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Detector on the letterboxed image: (scores, boxes, keypoints) in image pixels for anchors >= min_score."""
    boxed, scale, offset = _letterbox(rgb, DETECTOR_SIZE)
    out = detector().run(boxed)
    regressors, logits = out["boxes"], out["scores"]
    scores = _sigmoid(logits[0, :, 0].astype(np.float64))  # MediaPipe clips the logits at +-100 first
    keep = scores >= min_score
    raw, scores, centre = regressors[0][keep], scores[keep], anchors()[keep]
    # Offsets are in 224-px units from the anchor centre (anchor size fixed at 1), giving [0, 1] of the square;
    # then the letterbox is undone. (This model's box is a fixed-size square around the face.)
    cxcy = raw[:, 0:2] / DETECTOR_SIZE + centre
    wh = raw[:, 2:4] / DETECTOR_SIZE
    boxes = np.concatenate([cxcy - wh / 2, cxcy + wh / 2], axis=1)
    boxes = (boxes.reshape(-1, 2, 2) * DETECTOR_SIZE - offset) / scale
    keypoints = (raw[:, 4:12].reshape(-1, 4, 2) / DETECTOR_SIZE + centre[:, None, :]) * DETECTOR_SIZE
    keypoints = (keypoints - offset) / scale
    return scores, boxes.reshape(-1, 4), keypoints


def _tiles(h: int, w: int) -> list[tuple[int, int, int]]:
    """Overlapping square tiles (x, y, side) of half the long side: a second look for people too small to see."""
    side = min(h, w, max(h, w) // 2)
    out = []
    for y in np.linspace(0, h - side, max(1, int(np.ceil((h - side) / (side / 2))) + 1)).astype(int):
        for x in np.linspace(0, w - side, max(1, int(np.ceil((w - side) / (side / 2))) + 1)).astype(int):
            out.append((int(x), int(y), side))
    return out


def detect_people(rgb: np.ndarray, min_score: float = MIN_DETECTION_SCORE, *, tiles: bool = False) -> list[Detection]:
    """People the BlazePose detector finds with at least ``min_score``, best first, in image pixels.

    With ``tiles``, when the whole frame shows nobody, the detector looks again at overlapping tiles of half the
    long side: a person whose face is only a few detector pixels wide is found there (and then reported as too
    small rather than absent).
    """
    scores, boxes, keypoints = _decode(rgb, min_score)
    if tiles and not (scores >= MIN_DETECTION_SCORE).any():
        h, w = rgb.shape[:2]
        found = []
        for x, y, side in _tiles(h, w):
            sc, bx, kp = _decode(rgb[y : y + side, x : x + side], min_score)
            found.append((sc, bx + np.array([x, y, x, y]), kp + np.array([x, y])))
        scores, boxes, keypoints = (np.concatenate(parts) for parts in zip(*found, strict=True))
    return [
        Detection(score=score, box=box, keypoints=kps) for score, box, kps in _weighted_nms(scores, boxes, keypoints)
    ]


# --------------------------------------------------------------------------- landmarks


def _roi_from_points(centre: np.ndarray, scale_point: np.ndarray) -> Roi:
    """MediaPipe's AlignmentPointsRects (target angle 90 deg) + RectTransformation (x1.25, square)."""
    dx, dy = scale_point - centre
    rotation = np.pi / 2 - np.arctan2(-dy, dx)
    rotation = (rotation + np.pi) % (2 * np.pi) - np.pi
    size = 2.0 * float(np.hypot(dx, dy)) * ROI_SCALE
    return Roi(center=centre.astype(np.float64), size=size, rotation=float(rotation))


def _refine_on_heatmap(raw: np.ndarray, heatmap: np.ndarray, kernel: int = 7, min_confidence: float = 0.5) -> None:
    """MediaPipe's RefineLandmarksFromHeatmap: replace x/y by the confidence-weighted mean around the peak."""
    hm_size = heatmap.shape[0]
    half = kernel // 2
    for i in range(raw.shape[0]):
        cx = int(raw[i, 0] / LANDMARK_SIZE * hm_size)
        cy = int(raw[i, 1] / LANDMARK_SIZE * hm_size)
        x0, x1 = max(0, cx - half), min(hm_size, cx + half + 1)
        y0, y1 = max(0, cy - half), min(hm_size, cy + half + 1)
        if x0 >= x1 or y0 >= y1:
            continue
        conf = 1.0 / (1.0 + np.exp(-heatmap[y0:y1, x0:x1, i]))
        if conf.max() < min_confidence or conf.sum() <= 0:
            continue
        ys, xs = np.mgrid[y0:y1, x0:x1]
        raw[i, 0] = (xs * conf).sum() / conf.sum() / hm_size * LANDMARK_SIZE
        raw[i, 1] = (ys * conf).sum() / conf.sum() / hm_size * LANDMARK_SIZE


def _run_landmarks(rgb: np.ndarray, roi: Roi) -> tuple[np.ndarray, float, np.ndarray]:
    """Landmark model on the ROI crop: (39, 5) raw landmarks in image space, presence score, 256x256 mask logits."""
    m = roi.crop_to_image()
    crop = cv2.warpAffine(
        rgb,
        m,
        (LANDMARK_SIZE, LANDMARK_SIZE),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )
    result = landmarker().run(crop)
    raw = result["landmarks"][0].reshape(ALL_LANDMARKS, 5).astype(np.float64)
    _refine_on_heatmap(raw, result["heatmaps"][0])
    out = raw.copy()
    out[:, :2] = raw[:, :2] @ m[:, :2].T + m[:, 2]
    out[:, Z] = raw[:, Z] * roi.size / LANDMARK_SIZE  # z is in crop pixels, like x
    return out, float(result["presence"][0, 0]), result["segmentation"][0, :, :, 0]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -60, 60)))


def _mask_in_image(seg: np.ndarray, roi: Roi, w: int, h: int) -> np.ndarray:
    """The landmark model's person mask: sigmoid on the crop, warped back into the image (zero outside the crop)."""
    mask = cv2.warpAffine(
        _sigmoid(seg).astype(np.float32),
        roi.crop_to_image(),
        (w, h),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )
    return np.clip(mask, 0.0, 1.0)


# The shoulder joints span about three quarters of the silhouette's width just below them (0.57 to 0.82
# on the tuning photos, the low end with a hand on the hip). Under half, the landmark model took
# something else for the shoulders: on a photo cropped through the face the detector's crop is
# ambiguous, and the model can put the shoulders on a dress's straps and shrink the whole skeleton.
MIN_SHOULDER_SPAN = 0.5


def _shoulder_span(raw: np.ndarray, mask: np.ndarray) -> float:
    """Shoulder-joint distance over the silhouette's width a little below the shoulders (0: no silhouette there)."""
    left, right = raw[Landmark.LEFT_SHOULDER, :2], raw[Landmark.RIGHT_SHOULDER, :2]
    span = float(np.linalg.norm(left - right))
    y = int(round((left[1] + right[1]) / 2 + 0.15 * span))
    if not 0 <= y < mask.shape[0]:
        return 0.0
    row = np.flatnonzero(mask[y] > 0.5)
    return span / float(row[-1] - row[0]) if row.size > 1 else 0.0


def _retry_on_silhouette(
    rgb: np.ndarray, mask: np.ndarray, first: tuple[Roi, np.ndarray, float, np.ndarray]
) -> tuple[Roi, np.ndarray, float, np.ndarray]:
    """The landmark model again on upright crops framing the person's silhouette (a little loose, then
    looser), each refined once like the first; the candidate whose shoulders best fit the silhouette
    wins (the first one unless another does better)."""
    h, w = rgb.shape[:2]
    best, best_span = first, _shoulder_span(first[1], first[3])
    ys, xs = np.nonzero(mask > 0.5)
    if ys.size == 0:
        return best
    centre = np.array([(xs.min() + xs.max()) / 2, (ys.min() + ys.max()) / 2], np.float64)
    extent = float(max(ys.max() - ys.min(), xs.max() - xs.min()))
    for loose in (1.0, 1.2):
        roi = Roi(center=centre, size=loose * extent, rotation=0.0)
        raw, presence, seg = _run_landmarks(rgb, roi)
        if presence >= MIN_PRESENCE:
            roi = _roi_from_points(raw[AUX_HIP_CENTRE, :2], raw[AUX_BODY_SCALE, :2])
            raw, presence, seg = _run_landmarks(rgb, roi)
        if presence < MIN_PRESENCE:
            continue
        candidate_mask = _mask_in_image(seg, roi, w, h)
        span = _shoulder_span(raw, candidate_mask)
        # Closest to the usual span wins; a span past the silhouette's width is no better.
        if span <= 1.0 and abs(span - 0.75) < abs(best_span - 0.75):
            best, best_span = (roi, raw, presence, candidate_mask), span
    return best


def detect_pose(rgb: np.ndarray, *, refine: bool = True) -> Pose:
    """33 body landmarks and a person mask for the most confident person in an RGB uint8 image.

    ``refine`` runs the landmark model a second time on the crop its own first pass suggests.
    Raises ``PipelineError("NO_PERSON")`` when the detector or the landmark model finds nobody.
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError("detect_pose expects an HxWx3 RGB image")
    people = detect_people(rgb, CANDIDATE_SCORE, tiles=True)
    confident = [p for p in people if p.score >= MIN_DETECTION_SCORE]
    if not confident:
        raise PipelineError(
            "NO_PERSON",
            "No person was found in the photo. Use a photo of one person, upper body or full body, facing the camera.",
        )
    best = confident[0]
    roi = _roi_from_points(best.keypoints[DetectorKeypoint.HIP_CENTRE], best.keypoints[DetectorKeypoint.BODY_SCALE])
    raw, presence_score, seg = _run_landmarks(rgb, roi)
    if refine and presence_score >= MIN_PRESENCE:
        second = _roi_from_points(raw[AUX_HIP_CENTRE, :2], raw[AUX_BODY_SCALE, :2])
        raw2, presence2, seg2 = _run_landmarks(rgb, second)
        if presence2 >= MIN_PRESENCE:
            roi, raw, presence_score, seg = second, raw2, presence2, seg2
    if presence_score < MIN_PRESENCE:
        raise PipelineError(
            "NO_PERSON",
            "No person could be made out in the photo. Use a clearer photo of one person facing the camera.",
        )
    h, w = rgb.shape[:2]
    mask = _mask_in_image(seg, roi, w, h)
    if _shoulder_span(raw, mask) < MIN_SHOULDER_SPAN:
        roi, raw, presence_score, mask = _retry_on_silhouette(rgb, mask, (roi, raw, presence_score, mask))
    return Pose(
        landmarks=raw[:BODY_LANDMARKS, :2].astype(np.float32),
        visibility=_sigmoid(raw[:BODY_LANDMARKS, VISIBILITY]).astype(np.float32),
        mask=mask,
        detections=len(confident),
        score=best.score,
        presence=_sigmoid(raw[:BODY_LANDMARKS, PRESENCE]).astype(np.float32),
        depth=raw[:BODY_LANDMARKS, Z].astype(np.float32),
        pose_score=presence_score,
        roi=roi,
        people=people,
    )
