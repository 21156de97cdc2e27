"""Progress reporting from a pipeline to whoever runs it (the order, a benchmark, nothing)."""

from __future__ import annotations

from collections.abc import Callable

# progress(stage, percent): stage is a short machine name ("pose", "warp"...),
# percent the whole order's progress 0-100 after that stage.
ProgressCallback = Callable[[str, int], None]


def no_progress(stage: str, percent: int) -> None:
    """The default progress callback: reports nowhere."""
