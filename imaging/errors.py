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
