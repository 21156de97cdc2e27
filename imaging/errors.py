"""The one error type every pipeline raises for failures a user can act on."""

from __future__ import annotations


class PipelineError(Exception):
    """A failure the user can act on (no person found, no product separable...).

    ``code`` is a stable upper-case identifier that the API returns in
    ``error.code``; ``message`` says what went wrong and what to do about it.
    """

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class PipelineCannotProcess(PipelineError):
    """The pipeline's own computation broke down on these inputs (a fit that did not converge, a
    degenerate shape): the pipelines are deterministic, so the same photos fail the same way every
    time and a retry cannot help. The service refunds the order and logs ``detail`` (stage and cause)
    with the order's inputs so the failure can be reproduced."""

    CODE = "CANNOT_PROCESS_IMAGES"

    def __init__(self, stage: str, cause: BaseException):
        super().__init__(
            self.CODE,
            "These photos could not be processed (the garment or person shape could not be fitted); "
            "sending the same photos again will fail the same way. Try another garment photo (flat-lay or "
            "ghost mannequin, plain background), another person photo, or set options.category.",
        )
        self.stage = stage
        self.detail = f"{stage}: {type(cause).__name__}: {cause}"
