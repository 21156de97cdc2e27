"""Shapes drawn by more than one test module: garment outlines (points on a 600x600 canvas) and the pose
keypoints of a person facing the camera (on a 400x400 canvas); and a warp result reduced to its layers."""

import numpy as np

# A tee with long sleeves laid down along its sides, parting from the torso only at a slit low down (the usual
# flat lay of a long-sleeved tee), the cuffs near the hem.
LONG_SLEEVED_TEE = [
    (250, 60),
    (300, 75),
    (350, 60),
    (400, 75),
    (440, 100),
    (470, 470),
    (420, 470),
    (400, 300),
    (400, 520),
    (200, 520),
    (200, 300),
    (180, 470),
    (130, 470),
    (160, 100),
]


def front_keypoints() -> dict[str, np.ndarray]:
    """A person facing the camera, arms down, on a 400x400 canvas (fresh arrays: tests may move them)."""
    return {
        "r_shoulder": np.array([130.0, 140]),
        "l_shoulder": np.array([270.0, 140]),
        "r_elbow": np.array([115.0, 240]),
        "l_elbow": np.array([285.0, 240]),
        "r_wrist": np.array([110.0, 330]),
        "l_wrist": np.array([290.0, 330]),
        "r_hip": np.array([150.0, 330]),
        "l_hip": np.array([250.0, 330]),
        "nose": np.array([200.0, 75]),
    }


class PastedLayers:
    """A warp result reduced to what ``compose`` reads: one torso piece pasted on the canvas."""

    def __init__(self, rgb: np.ndarray, alpha: np.ndarray):
        self.rgb, self.alpha = rgb, alpha

    def layers(self, shape):
        return self.rgb, self.alpha, {"torso": self.alpha}
