"""Recognizing many images on a Dask distributed cluster: the per-image work of lpr.batch, on remote workers.

The client reads each image file and sends its encoded bytes (not decoded pixels, which are
about ten times larger), so workers need lpr installed but no access to the client's files.
The RecognizerSpec (model as .npz bytes, region, overrides) travels once per worker; each
worker process builds its recognizer from it once and keeps it. dask.distributed is an optional dependency (lpr[cluster]) and
is imported only when this mode is used.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator
from types import ModuleType

import cv2
from threadpoolctl import threadpool_limits

from .batch import LOOKAHEAD_PER_WORKER, Pending, done, ordered_results, recognize_encoded
from .errors import ImageReadError, LprError
from .imageio import read_image_bytes
from .pipeline import Recognizer, RecognizerSpec
from .records import ImageResult

INSTALL_HINT = "pip install 'lpr[cluster]'"
# Seconds to wait for the scheduler to answer and for at least one worker to join it.
CONNECT_TIMEOUT_S = 30.0

# Each worker process's recognizer, keyed by its spec (see RecognizerSpec.key): built on the
# first task and reused by every later one, so a model is parsed once per worker, not per image.
_recognizers: dict[str, Recognizer] = {}
_recognizers_lock = threading.Lock()


def import_distributed() -> ModuleType:
    """The dask.distributed module, or an LprError saying how to install it."""
    try:
        import distributed
    except ImportError:
        raise LprError(f"the Dask cluster mode needs dask.distributed, which is not installed: {INSTALL_HINT}") from None
    return distributed


def lpr_version() -> str:
    """The version of lpr installed where this runs (called on the workers to check they match the client)."""
    from . import __version__

    return __version__


def worker_recognizer(spec: RecognizerSpec) -> Recognizer:
    """A recognizer spec in, this worker process's cached recognizer for it out."""
    key = spec.key
    with _recognizers_lock:
        recognizer = _recognizers.get(key)
        if recognizer is None:
            # A worker runs one task per thread; OpenCV's and BLAS's own threads would compete with them.
            cv2.setNumThreads(1)
            threadpool_limits(1)
            # One model at a time: a new model replaces the old one instead of piling up.
            _recognizers.clear()
            recognizer = _recognizers[key] = spec.build()
    return recognizer


def recognize_remote(data: bytes, name: str, cropped: bool, spec: RecognizerSpec) -> ImageResult:
    """Dask task: one encoded image and its name in, its ImageResult out, using the worker's cached recognizer."""
    return recognize_encoded(worker_recognizer(spec), data, name, cropped)


def check_workers(client, timeout: float) -> int:
    """Wait for a worker, check every worker runs this lpr version; the number of worker threads out."""
    from . import __version__

    try:
        client.wait_for_workers(1, timeout=timeout)
    except TimeoutError:
        raise LprError(f"no Dask worker joined the scheduler within {timeout:.0f} s") from None
    try:
        versions = client.run(lpr_version)
    except Exception as error:  # the workers cannot even load this function: lpr is missing there
        raise LprError(f"the Dask workers cannot run lpr (is lpr installed on them?): {type(error).__name__}: {error}") from None
    wrong = {worker: version for worker, version in versions.items() if version != __version__}
    if wrong:
        worker, version = next(iter(wrong.items()))
        raise LprError(f"Dask worker {worker} runs lpr {version}, this client lpr {__version__}: install the same version")
    return max(1, sum(client.nthreads().values()))


def recognize_on_cluster(
    recognizer: Recognizer,
    paths: Iterable[str | os.PathLike],
    scheduler: str,
    cropped: bool = False,
    lookahead: int = LOOKAHEAD_PER_WORKER,
    timeout: float = CONNECT_TIMEOUT_S,
) -> Iterator[ImageResult]:
    """Image paths in, one ImageResult per path out, in input order, lazily, computed by the workers of a Dask scheduler."""
    distributed = import_distributed()
    try:
        client = distributed.Client(scheduler, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as error:
        raise LprError(f"cannot reach the Dask scheduler at {scheduler}: {error}") from None
    with client:
        threads = check_workers(client, timeout)
        # Sent once to every worker; each task then refers to it instead of carrying it.
        spec = client.scatter(recognizer.spec, broadcast=True, hash=False)

        def submit(path: str | os.PathLike) -> Pending[ImageResult]:
            name = str(path)
            try:
                data = read_image_bytes(name)
            except ImageReadError as error:  # known here already: no need to bother a worker
                return done(ImageResult(name, (), 0.0, str(error)))
            # pure=False: two identical files are still two images, each with its own result.
            return client.submit(recognize_remote, data, name, cropped, spec, pure=False)

        try:
            yield from ordered_results(map(submit, paths), threads * max(1, lookahead))
        except distributed.KilledWorker as error:
            raise LprError(f"Dask workers kept dying on an image (out of memory?): {error}") from None
