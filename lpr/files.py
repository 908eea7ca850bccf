"""Writing outputs safely: never over an existing file unless forced, never half-written."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import cv2
import numpy as np

from .errors import OutputExistsError, OutputWriteError


def _current_umask() -> int:
    """The process's file-creation mask (read by setting and restoring it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _publish(temporary: Path, path: Path, force: bool) -> None:
    """Move a finished temporary file to path; without force, fail if path appeared meanwhile."""
    if force:
        os.replace(temporary, path)
        return
    try:
        # A hard link fails if path exists, so a file created after the first check is
        # still never replaced; the rename below is only the fallback where links are not supported.
        os.link(temporary, path)
    except FileExistsError:
        raise OutputExistsError(f"{path}: already exists (use --force to overwrite)") from None
    except OSError:
        if path.exists():
            raise OutputExistsError(f"{path}: already exists (use --force to overwrite)") from None
        os.replace(temporary, path)
        return
    temporary.unlink()


def write_atomically(path: str | os.PathLike, write: Callable[[BinaryIO], object], force: bool = False, suffix: str = "") -> Path:
    """Call write(file_object) on a temporary file beside path, then rename it to path; returns path.

    Refuses to replace an existing file unless force is true (OutputExistsError), so a
    crash never leaves a half-written file and a run never destroys an earlier result by
    accident; an OS failure (permission, disk full) becomes a one-line OutputWriteError.
    """
    path = Path(path)
    if path.is_dir():
        raise OutputWriteError(f"{path}: is a folder, cannot write a file there")
    if path.exists() and not force:
        raise OutputExistsError(f"{path}: already exists (use --force to overwrite)")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix or ".tmp", dir=path.parent)
    except OSError as error:
        raise OutputWriteError(f"{path}: cannot write ({error.strerror or error})") from None
    temporary = Path(name)
    try:
        with os.fdopen(handle, "wb") as stream:
            write(stream)
            stream.flush()
            # On disk before the rename, so a power cut cannot leave an empty file under the final name.
            os.fsync(stream.fileno())
        # mkstemp makes the file private (0600); give it the mode any new file would get.
        os.chmod(temporary, 0o666 & ~_current_umask())
        _publish(temporary, path, force)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise OutputWriteError(f"{path}: cannot write ({error.strerror or error})") from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def write_image(path: str | os.PathLike, image: np.ndarray, force: bool = False) -> Path:
    """Encode a BGR uint8 image by the path's extension and write it atomically (see write_atomically)."""
    path = Path(path)
    try:
        ok, encoded = cv2.imencode(path.suffix or ".png", image)
    except cv2.error:
        ok = False
    if not ok:
        raise OutputWriteError(f"{path}: cannot encode an image as {path.suffix!r}")
    return write_atomically(path, lambda stream: stream.write(encoded.tobytes()), force=force, suffix=path.suffix)
