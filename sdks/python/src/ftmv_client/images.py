"""Image inputs: a file path, raw bytes, a binary stream, or base64 the caller already has."""

from __future__ import annotations

import base64
import os
from typing import IO, Union


class Base64(str):
    """Marks a string as already base64-encoded (optionally a ``data:image/...;base64,`` URL), not a path.

    A plain ``str`` is read as a file path: without the marker the two cannot be told apart safely.
    """


ImageInput = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, IO[bytes], Base64]


def encode_image(value: ImageInput, field: str) -> str:
    """The base64 text the API expects for one image field."""
    if isinstance(value, Base64):
        return str(value)
    if isinstance(value, str) and value.startswith("data:image/"):
        return value  # a data URL is unambiguous: the server accepts the prefix
    if isinstance(value, str | os.PathLike):
        with open(value, "rb") as file:
            data = file.read()
    elif isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
    elif hasattr(value, "read"):
        data = value.read()
        if not isinstance(data, bytes):
            raise TypeError(f"{field}: the stream must be opened in binary mode")
    else:
        raise TypeError(f"{field}: expected a path, bytes, a binary stream or ftmv_client.Base64, not {type(value)!r}")
    if not data:
        raise ValueError(f"{field}: the image is empty")
    return base64.b64encode(data).decode("ascii")
