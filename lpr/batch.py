"""Recognizing many images: paths in, one ImageResult per path out, one bad file never stopping the rest.

With workers > 1 the images are spread over a pool of processes; each process builds its
recognizer once, from the RecognizerSpec sent to it (model bytes, region, overrides), and
results come back in input order with a bounded number of images in flight, so memory
stays flat however many paths.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Protocol, TypeVar

import cv2
import numpy as np
from threadpoolctl import threadpool_limits

from .errors import ImageReadError, LprError
from .imageio import decode_image, read_image
from .pipeline import Recognizer, RecognizerSpec
from .records import ImageResult

# Images in flight per worker: enough that no worker waits while the next result in input
# order is still being computed, few enough that pending results never pile up in memory.
LOOKAHEAD_PER_WORKER = 4
# forkserver (or spawn) starts workers from a clean process: forking a parent that already
# runs threads (OpenCV's pool, progress bars) can deadlock the child.
START_METHOD = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"

R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)


def timed_result(recognizer: Recognizer, name: str, load: Callable[[], np.ndarray], cropped: bool) -> ImageResult:
    """Load one image and recognize it, timing both; an unreadable image becomes the result's error, not an exception."""
    start = time.perf_counter()
    try:
        plates = tuple(plate.record() for plate in recognizer.recognize(load(), cropped=cropped))
    except ImageReadError as error:
        return ImageResult(name, (), (time.perf_counter() - start) * 1000, str(error))
    return ImageResult(name, plates, (time.perf_counter() - start) * 1000)


def recognize_file(recognizer: Recognizer, path: str | os.PathLike, cropped: bool = False) -> ImageResult:
    """One image path in, its ImageResult out; an unreadable image becomes the result's error, not an exception."""
    name = str(path)
    return timed_result(recognizer, name, lambda: read_image(name), cropped)


def recognize_encoded(recognizer: Recognizer, data: bytes, name: str, cropped: bool = False) -> ImageResult:
    """One encoded image (the bytes of its file) and its name in, its ImageResult out, errors as for a file."""
    return timed_result(recognizer, name, lambda: decode_image(data, name), cropped)


def available_cores() -> int:
    """The number of CPU cores this process may run on (its affinity, not the machine's total)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class Pending(Protocol[R_co]):
    """A result being computed: a concurrent.futures or Dask future, or one already done."""

    def result(self) -> R_co: ...


def done(value: R) -> Future:
    """A value in, a future already holding it out (for results known without any work)."""
    future: Future = Future()
    future.set_result(value)
    return future


def ordered_results(pending: Iterable[Pending[R]], in_flight: int) -> Iterator[R]:
    """Futures in (submitted lazily as this is consumed), their results out in input order, at most in_flight at a time."""
    queue: deque[Pending[R]] = deque()
    for future in pending:
        queue.append(future)
        if len(queue) >= in_flight:
            yield queue.popleft().result()
    while queue:
        yield queue.popleft().result()


# The recognizer of this worker process, built once by start_worker (None in the main process).
_worker_recognizer: Recognizer | None = None


def start_worker(spec: RecognizerSpec) -> None:
    """Process-pool initializer: build this worker's recognizer once, from its spec."""
    global _worker_recognizer
    # One worker per core: OpenCV's and BLAS's own threads would only compete with the
    # other workers (on two busy cores, a classifier product took 3x as long with two BLAS threads).
    cv2.setNumThreads(1)
    threadpool_limits(1)
    _worker_recognizer = spec.build()


def worker_recognizer() -> Recognizer:
    """Nothing in, the recognizer start_worker built in this worker process out; RuntimeError elsewhere."""
    if _worker_recognizer is None:
        raise RuntimeError("a worker task runs only in a worker started by lpr.batch.start_worker")
    return _worker_recognizer


def recognize_in_worker(path: str, cropped: bool) -> ImageResult:
    """Process-pool task: one image path in, its ImageResult out, with this worker's recognizer."""
    return recognize_file(worker_recognizer(), path, cropped)


def recognize_paths(
    recognizer: Recognizer,
    paths: Iterable[str | os.PathLike],
    cropped: bool = False,
    workers: int = 1,
    lookahead: int = LOOKAHEAD_PER_WORKER,
) -> Iterator[ImageResult]:
    """Image paths in, one ImageResult per path out, in input order, lazily; workers > 1 uses that many processes.

    Results are the same for any number of workers, and on a Dask cluster: every process
    reads with single-threaded BLAS, whose sums do not depend on how work is split
    between threads (a multi-threaded product can order two equally likely texts apart).
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    if workers == 1:
        return recognize_in_process(recognizer, paths, cropped)
    return recognize_in_pool(recognizer, paths, cropped, workers, lookahead)


def recognize_in_process(recognizer: Recognizer, paths: Iterable[str | os.PathLike], cropped: bool) -> Iterator[ImageResult]:
    """Image paths in, ImageResults out in input order, computed in this process with one BLAS thread."""
    with threadpool_limits(1):
        for path in paths:
            yield recognize_file(recognizer, path, cropped)


def worker_context(preload: str) -> multiprocessing.context.BaseContext:
    """The module workers run (imported once by the fork server) in, the multiprocessing context to start them with out.

    The fork server is started here with SIGINT and SIGTERM ignored: it shields itself from
    Ctrl-C only after importing preload, a second or two, and a Ctrl-C or SIGTERM to the
    process group in that time killed it with a traceback. Ignored signals survive its exec;
    this process gets its own handlers back at once. Outside the main thread (where handlers
    cannot change) the server is left to start on first use.
    """
    context = multiprocessing.get_context(START_METHOD)
    if START_METHOD != "forkserver":
        return context
    # The fork server imports lpr once and forks every worker from it, ready to run.
    context.set_forkserver_preload([preload])
    if threading.current_thread() is threading.main_thread():
        previous = {number: signal.signal(number, signal.SIG_IGN) for number in (signal.SIGINT, signal.SIGTERM)}
        try:
            multiprocessing.forkserver.ensure_running()
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
    return context


def recognize_in_pool(
    recognizer: Recognizer, paths: Iterable[str | os.PathLike], cropped: bool, workers: int, lookahead: int
) -> Iterator[ImageResult]:
    """Image paths in, ImageResults out in input order, computed by a pool of worker processes."""
    context = worker_context(__name__)
    with ProcessPoolExecutor(workers, mp_context=context, initializer=start_worker, initargs=(recognizer.spec,)) as pool:
        submitted = (pool.submit(recognize_in_worker, str(path), cropped) for path in paths)
        try:
            yield from ordered_results(submitted, workers * max(1, lookahead))
        except BrokenProcessPool:
            raise LprError("a worker process died unexpectedly (killed, or out of memory); the batch was stopped") from None
        finally:
            # Stopped early (error or consumer gone): drop the queued work instead of finishing it.
            pool.shutdown(wait=True, cancel_futures=True)
