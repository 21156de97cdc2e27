"""The one table of processing stages: the names pipelines report and the labels people read.

Engines report these names through their progress callback; the worker stores
them on the order; the order page and the API show the labels. A stage a
pipeline reports must be listed here (a test checks it).
"""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    PENDING = "pending"
    STARTING = "starting"
    DECODED = "decoded"
    # try-on, classical engine
    PERSON = "person"
    GARMENT = "garment"
    WARP = "warp"
    COMPOSE = "compose"
    # try-on, FASHN VTON engine (also reports GARMENT)
    POSE = "pose"
    SAMPLE = "sample"
    PASTE = "paste"
    # catalog
    CUTOUT = "cutout"
    MEASURE = "measure"
    RENDER = "render"
    # end states
    DONE = "done"
    FAILED = "failed"


LABELS: dict[str, str] = {
    "": "Waiting for a worker",
    Stage.PENDING: "Waiting for a worker",
    Stage.STARTING: "Starting",
    Stage.DECODED: "Photos loaded",
    Stage.PERSON: "Analysing the person",
    Stage.GARMENT: "Cutting out the garment",
    Stage.WARP: "Fitting the garment to the body",
    Stage.COMPOSE: "Compositing the result",
    Stage.POSE: "Finding the pose",
    Stage.SAMPLE: "Generating the image",
    Stage.PASTE: "Blending into the photo",
    Stage.CUTOUT: "Cutting out the product",
    Stage.MEASURE: "Measuring the product",
    Stage.RENDER: "Rendering the catalog images",
    Stage.DONE: "Done",
    Stage.FAILED: "Failed",
}


def stage_label(stage: str) -> str:
    """The label people read for a stage name (an unknown name is shown readably, never hidden)."""
    return LABELS.get(stage, stage.replace("_", " ").capitalize())
