"""Small random-weight stand-ins for the two DWPose ONNX models, for the tiny test bundle only.

The real models cannot be downloaded here, but the serving engine's DWPose pre-
and post-processing must run in CI. These graphs have exactly the real models'
input and output names, shapes and value conventions, as upstream uses them
(``src/fashn_vton/dwpose/onnxdet.py`` and ``onnxpose.py``):

- detector ``yolox_l.onnx``: input ``images`` (1, 3, 640, 640) float32, BGR 0-255,
  letterboxed top-left on gray 114; output ``output`` (1, 8400, 85): per anchor of
  the 80x80, 40x40 and 20x20 grids (strides 8, 16, 32), (dx, dy, log w, log h)
  in stride units, then objectness and 80 class scores already through a sigmoid.
- keypoints ``dw-ll_ucoco_384.onnx``: input ``input`` (1, 3, 384, 288) float32
  (BGR, mean/std normalised); outputs ``simcc_x`` (1, 133, 576) and ``simcc_y``
  (1, 133, 768): SimCC scores at split ratio 2 for the 133 COCO-WholeBody keypoints.

They know nothing about people. To give the real post-processing something to
do, the detector's objectness has a fixed prior: every anchor is far below the
0.1 score threshold except the centre anchor of the 20x20 (stride 32) grid, so
exactly one box comes out, its size from the random head around 7x12 strides
(224x384 px of the 640 letterbox). The keypoint scores lie in 0.1-0.7, so most
keypoints come out "visible" (> 0.3) and some do not, at positions that depend on
the image through random features.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

DETECTOR_INPUT = (1, 3, 640, 640)
POSE_INPUT = (1, 3, 384, 288)
NUM_KEYPOINTS = 133
GRIDS = (80, 40, 20)


class DetectorStandIn(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 8, kernel_size=8, stride=8)  # 80x80
        self.down1 = nn.Conv2d(8, 8, kernel_size=2, stride=2)  # 40x40
        self.down2 = nn.Conv2d(8, 8, kernel_size=2, stride=2)  # 20x20
        self.heads = nn.ModuleList([nn.Conv2d(8, 85, kernel_size=1) for _ in GRIDS])
        prior = torch.full((sum(g * g for g in GRIDS),), -12.0)
        centre = GRIDS[0] ** 2 + GRIDS[1] ** 2 + (GRIDS[2] // 2) * GRIDS[2] + GRIDS[2] // 2
        prior[centre] = 4.0
        self.register_buffer("objectness_prior", prior)
        size = torch.zeros(sum(g * g for g in GRIDS), 2)
        size[centre] = torch.log(torch.tensor([7.0, 12.0]))
        self.register_buffer("size_prior", size)

    def forward(self, images: Tensor) -> Tensor:
        f0 = torch.relu(self.stem(images / 255.0 - 0.5))
        f1 = torch.relu(self.down1(f0))
        f2 = torch.relu(self.down2(f1))
        raw = torch.cat(
            [head(f).flatten(2).transpose(1, 2) for head, f in zip(self.heads, (f0, f1, f2), strict=True)], 1
        )
        offsets = 0.3 * torch.tanh(raw[..., 0:2])
        sizes = self.size_prior + 0.2 * torch.tanh(raw[..., 2:4])
        objectness = torch.sigmoid(raw[..., 4:5] * 0.1 + self.objectness_prior[:, None])
        classes = torch.sigmoid(raw[..., 5:] * 0.1 + torch.cat([torch.tensor([3.0]), torch.full((79,), -3.0)]))
        return torch.cat([offsets, sizes, objectness, classes], dim=-1)


class KeypointStandIn(nn.Module):
    def __init__(self, features: int = 8) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, features, kernel_size=16, stride=16)  # 24x18
        self.per_keypoint = nn.Linear(features, NUM_KEYPOINTS * features)
        self.basis_x = nn.Parameter(torch.randn(features, POSE_INPUT[3] * 2))
        self.basis_y = nn.Parameter(torch.randn(features, POSE_INPUT[2] * 2))
        self.features = features

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        pooled = torch.relu(self.stem(x)).mean(dim=(2, 3))  # (1, F)
        coeffs = self.per_keypoint(pooled).reshape(1, NUM_KEYPOINTS, self.features)
        # Scores in 0.1-0.7: most keypoints pass the 0.3 visibility threshold, some do not.
        simcc_x = 0.4 + 0.3 * torch.tanh(coeffs @ self.basis_x)
        simcc_y = 0.4 + 0.3 * torch.tanh(coeffs @ self.basis_y)
        return simcc_x, simcc_y


def build_standins(seed: int) -> tuple[DetectorStandIn, KeypointStandIn]:
    torch.manual_seed(seed)
    return DetectorStandIn().eval(), KeypointStandIn().eval()
