"""Writing outputs safely: never over an existing file unless forced, never half-written."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import cv2
import numpy as np

from .errors import OutputExistsError


def write_atomically(path: Path, write: Callable[[BinaryIO], object], force: bool = False, suffix: str = "") -> None:
    """Call write(file_object) on a temporary file beside path, then rename it to path.

    Refuses to replace an existing file unless force is true, so a crash never leaves a
    half-written file and a run never destroys an earlier result by accident.
    """
    path = Path(path)
    if path.exists() and not force:
        raise OutputExistsError(f"{path}: already exists (use --force to overwrite)")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix or ".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            write(stream)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_image(path: str | os.PathLike, image: np.ndarray, force: bool = False) -> Path:
    """Encode a BGR uint8 image by the path's extension and write it atomically (see write_atomically)."""
    path = Path(path)
    ok, encoded = cv2.imencode(path.suffix or ".png", image)
    if not ok:
        raise ValueError(f"cannot encode an image as {path.suffix!r}")
    write_atomically(path, lambda stream: stream.write(encoded.tobytes()), force=force, suffix=path.suffix)
    return path
