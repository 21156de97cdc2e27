"""The model bundle made by ``tools/export_fashn_vton.py``: its manifest, files and integrity check."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BUNDLE_FORMAT = "ftmv-fashn-vton-bundle"
BUNDLE_VERSION = 1
MANIFEST = "manifest.json"


class BundleError(Exception):
    """The bundle is missing, incomplete or corrupt; the message says which file and why."""


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass(frozen=True)
class Bundle:
    root: Path
    manifest: dict[str, Any]

    @property
    def height(self) -> int:
        return int(self.manifest["config"]["height"])

    @property
    def width(self) -> int:
        return int(self.manifest["config"]["width"])

    @property
    def generators(self) -> dict[str, str]:
        """precision ("float32", "float16") -> file name."""
        return dict(self.manifest["generators"])

    def path(self, name: str) -> Path:
        return self.root / name

    @property
    def detector(self) -> Path:
        return self.root / self.manifest["dwpose"]["detector"]

    @property
    def keypoints(self) -> Path:
        return self.root / self.manifest["dwpose"]["keypoints"]

    @property
    def sampling(self) -> dict[str, Any]:
        return dict(self.manifest["sampling"])

    def summary(self) -> dict[str, object]:
        """The facts /healthz and the benchmarks show."""
        return {
            "dir": str(self.root),
            "config": self.manifest["config"],
            "weights": self.manifest.get("weights"),
            "generators": self.generators,
            "dwpose_stand_in": bool(self.manifest["dwpose"].get("stand_in")),
            "bytes": sum(int(f["bytes"]) for f in self.manifest["files"].values()),
        }


def load_manifest(root: Path) -> Bundle:
    """Read and validate the manifest's shape (not the files' hashes: see :func:`verify`)."""
    path = root / MANIFEST
    if not root.is_dir():
        raise BundleError(f"bundle directory {root} does not exist")
    if not path.is_file():
        raise BundleError(f"{path} is missing (make the bundle with tools/export_fashn_vton.py)")
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise BundleError(f"{path} is not readable JSON: {exc}") from exc
    if manifest.get("format") != BUNDLE_FORMAT or manifest.get("format_version") != BUNDLE_VERSION:
        raise BundleError(
            f"{path} is not a version-{BUNDLE_VERSION} {BUNDLE_FORMAT} manifest "
            f"(format {manifest.get('format')!r}, version {manifest.get('format_version')!r})"
        )
    for key in ("config", "generators", "dwpose", "files", "sampling"):
        if key not in manifest:
            raise BundleError(f"{path} has no {key!r}")
    needed = [*manifest["generators"].values(), manifest["dwpose"]["detector"], manifest["dwpose"]["keypoints"]]
    if "float32" not in manifest["generators"]:
        raise BundleError(f"{path} lists no float32 generator")
    unlisted = [n for n in needed if n not in manifest["files"]]
    if unlisted:
        raise BundleError(f"{path} does not list the hashes of {', '.join(unlisted)}")
    return Bundle(root=root, manifest=manifest)


def verify(bundle: Bundle) -> None:
    """Every file the manifest lists exists with its size and sha256 (a 4 GB bundle: a few seconds)."""
    for name, entry in bundle.manifest["files"].items():
        path = bundle.root / name
        if not path.is_file():
            raise BundleError(f"{path} is missing")
        if path.stat().st_size != int(entry["bytes"]):
            raise BundleError(f"{path} has {path.stat().st_size} bytes, the manifest says {entry['bytes']}")
        digest = sha256_file(path)
        if digest != entry["sha256"]:
            raise BundleError(
                f"{path} is corrupt: sha256 {digest[:12]}..., the manifest says {entry['sha256'][:12]}..."
            )
