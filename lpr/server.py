"""`lpr serve`: the reads database, recognition and the cameras behind one HTTP server (FastAPI on uvicorn).

Routes: Plate Recognizer's Snapshot route (POST /v1/plate-reader/), lpr's own API under /v1
(documented at /docs), /healthz, /metrics (Prometheus) and the web page at /. Recognition
runs in a pool of worker processes, so no request blocks the event loop; the database is
used from a thread pool. A request that finds every worker busy and the queue full is
answered 429 at once. Uploads over the size limit are refused (413) as their bytes arrive,
and images over the pixel limit (400) on their header, before anything is decoded.

New reads reach the page live: one task follows the database's stored_at every
live_poll_s and sends each new read to every open /v1/events stream, whichever process
(this server's cameras, its uploads, or separate `lpr watch` processes) stored it.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, File, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response, StreamingResponse
from fastapi.security import APIKeyHeader
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile as StarletteUploadFile
from starlette.exceptions import HTTPException

from . import __version__, batch
from .errors import ImageReadError
from .hotlist import Hotlist, HotlistEntry, HotlistWatcher, normalize_plate, parse_hotlist
from .imageio import decode_image, header_size
from .localization import to_gray
from .pipeline import Recognizer
from .records import ImageResult, VehicleRead
from .snapshot import chosen_region, region_codes, snapshot_response, snapshot_timestamp
from .sources import one_line
from .store import Store, StoreError
from .tokens import Tokens, presented_token
from .watch import WatchConfig, best_match, parse_time, save_read_media, start_pool

logger = logging.getLogger("lpr.serve")

WEB = resources.files("lpr") / "web"
# The formats the server takes, found by their first bytes (never by a file's name or declared type).
ACCEPTED_FORMATS = "JPEG, PNG, BMP, TIFF, WebP or GIF"


@dataclass(frozen=True)
class ServeConfig:
    """How `lpr serve` takes requests: workers, queue, upload limits, pages and the live feed."""

    # Recognition processes: one per core is what the machine can compute at once.
    workers: int = 1
    # Requests waiting per worker beyond the one it computes: a deeper queue only adds latency; past it a client is told 429 and retries.
    queue_per_worker: int = 4
    # 16 MiB holds a 12-megapixel JPEG with room to spare; bigger uploads are refused as they arrive (413).
    max_upload_bytes: int = 16 * 1024 * 1024
    # Images declaring more pixels are refused on their header (400): 40 MP is above any camera's frame, and a decompression bomb's 40 MP would cost 120 MB.
    max_pixels: int = 40_000_000
    # Reads per page of GET /v1/reads unless the client asks, and the most it may ask for.
    page_size: int = 50
    max_page_size: int = 500
    # How often the live feed looks for new reads: the page shows a read within about this long of its commit.
    live_poll_s: float = 0.5
    # Reads committed up to this long before the latest one seen are looked for again: a transaction that took its time stamp before a quicker one committed is still sent.
    live_overlap_s: float = 10.0
    # A camera whose watcher sent no status for this long is shown as stale (its watcher stopped or lost the database).
    camera_stale_s: float = 30.0
    # A comment line this often keeps proxies and browsers from closing an idle /v1/events stream.
    keepalive_s: float = 15.0
    # Imported hotlists are read from the database this often to match reads stored through the API.
    hotlist_refresh_s: float = 10.0
    # Where reads' pictures are (and where stored uploads' pictures go); None: reads are served without pictures.
    media_dir: Path | None = None
    # The crop margin and JPEG quality of stored uploads' pictures, as `lpr watch` saves them.
    watch: WatchConfig = field(default_factory=WatchConfig)

    def __post_init__(self) -> None:
        if self.workers < 1 or self.queue_per_worker < 0:
            raise ValueError(f"workers must be at least 1 and queue_per_worker at least 0, got {self.workers} and {self.queue_per_worker}")
        if not 1 <= self.page_size <= self.max_page_size:
            raise ValueError(f"page_size must be in [1, max_page_size={self.max_page_size}], got {self.page_size}")
        if self.max_upload_bytes < 1 or self.max_pixels < 1:
            raise ValueError("max_upload_bytes and max_pixels must be at least 1")


@dataclass(frozen=True)
class Recognition:
    """What a worker made of one upload: the image's result, each plate's detection score and the image's (width, height) (None when it could not be decoded)."""

    result: ImageResult
    detection_scores: tuple[float, ...]
    size: tuple[int, int] | None


# This worker's recognizers per region, built from the one start_worker built (None in the main process).
_region_recognizers: dict[str, Recognizer] = {}


def _recognizer_for(region: str | None) -> Recognizer:
    """A region (None: the model's) in, this worker's recognizer for it out."""
    base = batch.worker_recognizer()
    if region is None or region == base.region:
        return base
    if region not in _region_recognizers:
        _region_recognizers[region] = Recognizer(base.model, region, base.overrides)
    return _region_recognizers[region]


def recognize_upload(data: bytes, name: str, region: str | None, max_pixels: int) -> Recognition:
    """Process-pool task: an upload's bytes, its name, the region to read for and the pixel limit in, its Recognition out (an undecodable image as the result's error)."""
    start = time.perf_counter()
    try:
        image = decode_image(data, name, max_pixels=max_pixels)
    except ImageReadError as error:
        return Recognition(ImageResult(name, (), (time.perf_counter() - start) * 1000, str(error)), (), None)
    recognizer = _recognizer_for(region)
    plates = tuple(plate.record() for plate in recognizer.recognize(image))
    gray = to_gray(image)
    scores = tuple(recognizer.detection_score(gray, plate) for plate in plates)
    elapsed_ms = (time.perf_counter() - start) * 1000
    return Recognition(ImageResult(name, plates, elapsed_ms), scores, (image.shape[1], image.shape[0]))


def warm_worker() -> str:
    """Process-pool task: nothing in, this worker's region out, once its recognizer is built."""
    return batch.worker_recognizer().region


class Saturated(Exception):
    """Every worker is busy and the queue is full."""


class RecognitionPool:
    """Worker processes that recognize uploads, with a bounded number in flight; use from the event loop."""

    def __init__(self, recognizer: Recognizer, config: ServeConfig) -> None:
        self.config = config
        self.capacity = config.workers * (1 + config.queue_per_worker)
        self.in_flight = 0
        self._pool: ProcessPoolExecutor = start_pool(recognizer, config.workers)

    async def warm(self) -> None:
        """Nothing in; returns once every worker has built its recognizer."""
        await asyncio.gather(*(asyncio.wrap_future(self._pool.submit(warm_worker)) for _ in range(self.config.workers)))

    async def recognize(self, data: bytes, name: str, region: str | None) -> Recognition:
        """An upload's bytes, its name and region in, its Recognition out; Saturated at once when the queue is full."""
        if self.in_flight >= self.capacity:
            raise Saturated
        self.in_flight += 1
        try:
            return await asyncio.wrap_future(self._pool.submit(recognize_upload, data, name, region, self.config.max_pixels))
        finally:
            self.in_flight -= 1

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class Metrics:
    """The server's Prometheus metrics: requests, recognitions, reads, and each camera's status read from the database when scraped."""

    def __init__(self, store: Store) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("lpr_http_requests", "HTTP requests answered", ["route", "method", "status"], registry=self.registry)
        self.latency = Histogram(
            "lpr_http_request_duration_seconds", "Time to answer an HTTP request", ["route"], registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
        )  # fmt: skip
        self.recognitions = Counter("lpr_recognitions", "Uploads recognized, by outcome", ["outcome"], registry=self.registry)
        self.recognition_seconds = Histogram(
            "lpr_recognition_duration_seconds", "Time a worker took to decode and recognize an upload", registry=self.registry,
            buckets=(0.01, 0.025, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2),
        )  # fmt: skip
        self.plates = Counter("lpr_plates_read", "Plates read in uploads", registry=self.registry)
        self.rejected = Counter("lpr_requests_rejected", "Requests refused before recognition, by reason", ["reason"], registry=self.registry)
        self.in_flight = Gauge("lpr_recognitions_in_flight", "Uploads being recognized or waiting for a worker", registry=self.registry)
        self.reads = Counter("lpr_reads_stored", "Reads stored in the database since this server started (any process's)", registry=self.registry)
        self.registry.register(_CameraCollector(store))


class _CameraCollector:
    """Prometheus collector: each camera's latest status from the database, at scrape time."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def describe(self) -> list:
        return []

    def collect(self):
        try:
            statuses = self.store.camera_statuses()
        except StoreError:
            statuses = []
        families = {
            "connected": GaugeMetricFamily("lpr_camera_connected", "1 when the camera delivers frames", labels=["camera"]),
            "fps": GaugeMetricFamily("lpr_camera_fps", "Frames read per second", labels=["camera"]),
            "frames_read": GaugeMetricFamily("lpr_camera_frames_read", "Frames read since its watcher started", labels=["camera"]),
            "frames_dropped": GaugeMetricFamily("lpr_camera_frames_dropped", "Frames a live stream dropped to stay current", labels=["camera"]),
            "reconnects": GaugeMetricFamily("lpr_camera_reconnects", "Reconnections to the stream", labels=["camera"]),
        }
        for status in statuses:
            values = {
                "connected": float(status.connected), "fps": status.fps or 0.0, "frames_read": status.frames_read,
                "frames_dropped": status.frames_dropped, "reconnects": status.reconnects,
            }  # fmt: skip
            for key, family in families.items():
                family.add_metric([status.camera], values[key])
        yield from families.values()


class LiveFeed:
    """New reads for every open /v1/events stream: one task follows the database, each stream has a bounded queue."""

    def __init__(self, store: Store, config: ServeConfig, metrics: Metrics) -> None:
        self.store = store
        self.config = config
        self.metrics = metrics
        self._queues: set[asyncio.Queue] = set()
        # Ids already sent, with when they were stored: the overlap looks at them again.
        self._sent: dict[str, datetime] = {}
        self._latest = datetime.now(timezone.utc)

    def subscribe(self) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue(maxsize=256)
        self._queues.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue) -> None:
        self._queues.discard(queue)

    async def run(self) -> None:
        """Follow the database until cancelled; a failing database is logged once per failure streak and retried."""
        failing = False
        while True:
            await asyncio.sleep(self.config.live_poll_s)
            since = self._latest - timedelta(seconds=self.config.live_overlap_s)
            try:
                stored = await run_in_threadpool(self.store.stored_since, since)
            except StoreError as error:
                if not failing:
                    logger.error("live feed: %s", error)
                failing = True
                continue
            failing = False
            for stored_at, read in stored:
                if read.id in self._sent:
                    continue
                self._sent[read.id] = stored_at
                self._latest = max(self._latest, stored_at)
                self.metrics.reads.inc()
                self.publish(read)
            self._sent = {key: at for key, at in self._sent.items() if at >= since}

    def publish(self, read: VehicleRead) -> None:
        """A new read in; queued for every stream (a stream too slow to keep up is dropped, and its page reconnects)."""
        message = read_json(read)
        for queue in list(self._queues):
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:
                # Its stream ends (None) instead of silently missing reads; the page reconnects and reloads.
                self._queues.discard(queue)
                while not queue.empty():
                    queue.get_nowait()
                queue.put_nowait(None)


def read_json(read: VehicleRead) -> dict[str, Any]:
    """A read in, its JSON object with the URLs of its pictures out."""
    data = read.to_dict()
    data["crop_url"] = f"/v1/reads/{read.id}/crop.jpg" if read.crop_path else None
    data["frame_url"] = f"/v1/reads/{read.id}/frame.jpg" if read.frame_path else None
    return data


def encode_cursor(read: VehicleRead) -> str:
    """The last read of a page in, the opaque cursor of the next page out."""
    return base64.urlsafe_b64encode(json.dumps([read.first_seen.isoformat(), read.id]).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """A cursor from encode_cursor in, (first_seen, id) out; ValueError for anything else."""
    try:
        seen, read_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        moment = datetime.fromisoformat(seen)
        if not isinstance(read_id, str) or moment.tzinfo is None:
            raise ValueError
        return moment, read_id
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ValueError("cursor: not a cursor this server gave (use next_cursor as it came)") from None


def media_file(media_dir: Path | None, stored: str | None) -> Path | None:
    """The media folder and a picture's stored path in, the file out when it exists inside the folder; None otherwise (no folder, no picture, or a path outside it)."""
    if media_dir is None or not stored:
        return None
    root = media_dir.resolve()
    path = Path(stored)
    for candidate in (path,) if path.is_absolute() else (Path.cwd() / path, root / path):
        resolved = candidate.resolve()
        if resolved.is_relative_to(root) and resolved.is_file():
            return resolved
    return None


def upload_error(data: bytes, config: ServeConfig) -> str | None:
    """An upload's bytes in, why it is refused before any decoding (empty, not an image by its first bytes, too many pixels by its header) out, or None."""
    if not data:
        return "upload is empty"
    size = header_size(data)
    if size is None:
        return f"upload is not an image lpr reads: send {ACCEPTED_FORMATS} (the content decides, not the file name)"
    if size[0] * size[1] > config.max_pixels:
        return f"image declares {size[0]}x{size[1]} pixels, over the limit of {config.max_pixels}"
    return None


class HotlistEntryIn(BaseModel):
    """A hotlist entry to add: the plate, its list and a note."""

    plate: str
    list: str = "hotlist"
    note: str = ""


class Service:
    """What the routes share: the store, tokens, recognizer and pool, metrics, live feed and the cameras' watcher."""

    def __init__(self, store: Store, tokens: Tokens, recognizer: Recognizer, config: ServeConfig, hotlists: Sequence[HotlistWatcher] = (), alerts_to: Sequence[str] = ()) -> None:
        self.store = store
        self.tokens = tokens
        self.recognizer = recognizer
        self.config = config
        self.hotlists = list(hotlists)
        self.alerts_to = list(alerts_to)
        self.metrics = Metrics(store)
        self.live = LiveFeed(store, config, self.metrics)
        self.pool: RecognitionPool | None = None
        self.ready = False
        self._imported = Hotlist(())
        self._imported_at = -float("inf")
        # Background work started with the server and stopped with it: (start, stop) pairs.
        self.background: list[tuple[Callable[[], None], Callable[[], None]]] = []

    def imported_hotlist(self) -> Hotlist:
        """Nothing in, the hotlists imported into the database (refreshed every hotlist_refresh_s) out."""
        now = time.monotonic()
        if now - self._imported_at >= self.config.hotlist_refresh_s:
            try:
                self._imported = Hotlist(self.store.hotlist_entries())
                self._imported_at = now
            except StoreError as error:
                logger.error("cannot refresh the imported hotlists, keeping the previous ones: %s", error)
        return self._imported

    def store_uploaded(self, recognition: Recognition, data: bytes, camera: str, timestamp: str) -> list[VehicleRead]:
        """An upload's recognition and bytes, the camera to file it under and its timestamp in, one stored read per plate out (with pictures when there is a media folder)."""
        seen = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
        image = None
        if self.config.media_dir is not None and recognition.result.plates:
            image = decode_image(data, recognition.result.image, max_pixels=self.config.max_pixels)
        hotlists = [watcher.current() for watcher in self.hotlists] + [self.imported_hotlist()]
        stored = []
        for plate in recognition.result.plates:
            texts = list(dict.fromkeys([plate.text, *(c.plate for c in plate.candidates)]))
            read = VehicleRead(
                id=uuid.uuid4().hex, plate=plate.text, confidence=plate.confidence, candidates=plate.candidates, camera=camera,
                source=f"upload:{recognition.result.image}", first_seen=seen, last_seen=seen, source_offset_s=None, frames_seen=1,
                box=plate.box, crop_path=None, frame_path=None, match=best_match(hotlists, texts),
            )  # fmt: skip
            if image is not None and self.config.media_dir is not None:
                read = save_read_media(read, image, self.config.media_dir, self.config.watch, lambda line: logger.error("%s", line))
            self.store.add_read(read, alerts_to=self.alerts_to if read.match is not None else ())
            stored.append(read)
        return stored


def _route_of(scope: dict) -> str:
    """A request's scope in, its route's path template out (so metrics labels stay few), or "other"."""
    route = scope.get("route")
    return getattr(route, "path", None) or "other"


# A body over the limit but under this many times it is read to its end (and dropped) before the 413: most
# clients send a whole body before reading the answer, and would see a reset connection instead.
DRAIN_FACTOR = 4


async def _drain(receive: Callable[[], Awaitable[dict]], most: int) -> None:
    """An ASGI receive and a byte count in; the request's body read and dropped until it ends or that many bytes passed."""
    dropped = 0
    while dropped <= most:
        message = await receive()
        if message["type"] != "http.request":
            return
        dropped += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


def limit_and_measure(app: Callable, service: Service) -> Callable:
    """An ASGI app in, the same app with uploads over max_upload_bytes refused (413, as soon as the limit is passed) and every request counted and timed."""
    limit = service.config.max_upload_bytes
    metrics = service.metrics

    async def wrapped(scope: dict, receive: Callable[[], Awaitable[dict]], send: Callable[[dict], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        start = time.perf_counter()
        status = {"code": 500}

        async def measured_send(message: dict) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        declared = dict(scope["headers"]).get(b"content-length")
        too_large = f"upload is over the limit of {limit} bytes"
        try:
            if declared is not None and declared.isdigit() and int(declared) > limit:
                metrics.rejected.labels("too_large").inc()
                if int(declared) <= DRAIN_FACTOR * limit:
                    await _drain(receive, DRAIN_FACTOR * limit)
                await JSONResponse({"detail": too_large}, status_code=413)(scope, receive, measured_send)
                return
            received = 0

            async def limited_receive() -> dict:
                nonlocal received
                message = await receive()
                if message["type"] == "http.request":
                    received += len(message.get("body", b""))
                    if received > limit:
                        metrics.rejected.labels("too_large").inc()
                        if message.get("more_body", False):
                            await _drain(receive, DRAIN_FACTOR * limit - received)
                        raise HTTPException(413, too_large)
                return message

            await app(scope, limited_receive, measured_send)
        finally:
            route = _route_of(scope)
            if route != "/v1/events":
                metrics.latency.labels(route).observe(time.perf_counter() - start)
            metrics.requests.labels(route, scope["method"], str(status["code"])).inc()

    return wrapped


def create_app(service: Service) -> FastAPI:
    """A Service in, the FastAPI application serving it out (wrap it with limit_and_measure before serving; serve() does)."""
    config, store = service.config, service.store
    authorization = APIKeyHeader(name="Authorization", auto_error=False, description="Token KEY (as Plate Recognizer's clients send it) or Bearer KEY")

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        service.pool = RecognitionPool(service.recognizer, config)
        live = asyncio.create_task(service.live.run())
        for start, _ in service.background:
            start()
        try:
            await service.pool.warm()
            service.ready = True
            logger.warning("ready: %d recognition worker(s)", config.workers)
            yield
        finally:
            live.cancel()
            for _, stop in service.background:
                await run_in_threadpool(stop)
            service.pool.close()

    app = FastAPI(
        title="lpr",
        version=__version__,
        description="License plate recognition: Plate Recognizer–compatible snapshot route, stored reads, hotlists and cameras.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )

    def role(header: str | None = Depends(authorization)) -> str:
        presented = presented_token(header)
        found = service.tokens.role(presented)
        if found is None:
            message = "a token is needed: send Authorization: Token KEY" if presented is None else "this token is not one of the server's tokens"
            raise HTTPException(401, message, headers={"WWW-Authenticate": "Token"})
        return found

    def admin(found: str = Depends(role)) -> str:
        if found != "admin":
            raise HTTPException(403, "this token may read but not change anything")
        return found

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, error: HTTPException) -> JSONResponse:
        return JSONResponse({"detail": one_line(error.detail)}, status_code=error.status_code, headers=getattr(error, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0] if error.errors() else {"loc": (), "msg": "malformed request"}
        where = ".".join(str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path"))
        return JSONResponse({"detail": one_line(f"{where}: {first.get('msg')}" if where else first.get("msg"))}, status_code=400)

    @app.exception_handler(StoreError)
    async def store_error(_request: Request, error: StoreError) -> JSONResponse:
        logger.error("%s", error)
        return JSONResponse({"detail": one_line(error)}, status_code=503)

    @app.exception_handler(Exception)
    async def unexpected_error(_request: Request, error: Exception) -> JSONResponse:
        logger.exception("unexpected error")
        return JSONResponse({"detail": one_line(f"internal error ({type(error).__name__}); the server log has the details")}, status_code=500)

    async def recognized(data: bytes, name: str, region: str | None) -> Recognition:
        """An upload's bytes, name and region in, its Recognition out; 400/429/503 as HTTPException."""
        refused = upload_error(data, config)
        if refused is not None:
            service.metrics.rejected.labels("not_an_image").inc()
            raise HTTPException(400, refused)
        if service.pool is None or not service.ready:
            raise HTTPException(503, "the recognition workers are still starting")
        service.metrics.in_flight.inc()
        try:
            recognition = await service.pool.recognize(data, name, region)
        except Saturated:
            service.metrics.rejected.labels("saturated").inc()
            raise HTTPException(429, "every recognition worker is busy: retry shortly", headers={"Retry-After": "1"}) from None
        except BrokenProcessPool:
            raise HTTPException(503, "a recognition worker died; restart the server") from None
        finally:
            service.metrics.in_flight.dec()
        if recognition.result.error is not None:
            service.metrics.recognitions.labels("unreadable").inc()
            raise HTTPException(400, recognition.result.error)
        service.metrics.recognitions.labels("read").inc()
        service.metrics.recognition_seconds.observe(recognition.result.processing_time_ms / 1000)
        service.metrics.plates.inc(len(recognition.result.plates))
        return recognition

    # ---- the page and its assets: no token (the page asks for one) ----

    @app.get("/", include_in_schema=False)
    def page() -> HTMLResponse:
        return HTMLResponse((WEB / "index.html").read_text(encoding="utf-8"), headers={"Cache-Control": "no-cache"})

    assets = {entry.name: entry for entry in WEB.iterdir() if entry.is_file() and entry.name != "index.html"}
    swagger = _swagger_assets()

    @app.get("/assets/{name}", include_in_schema=False)
    def asset(name: str) -> Response:
        if name not in assets:
            raise HTTPException(404, f"no asset {name}")
        kind = {"js": "text/javascript", "css": "text/css", "png": "image/png", "svg": "image/svg+xml"}.get(name.rpartition(".")[2], "application/octet-stream")
        return Response(assets[name].read_bytes(), media_type=kind, headers={"Cache-Control": "no-cache"})

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        if not swagger:
            return HTMLResponse("<p>The API description is at <a href='/openapi.json'>/openapi.json</a> (install swagger-ui-bundle for this page).</p>")
        return get_swagger_ui_html(openapi_url="/openapi.json", title="lpr API", swagger_js_url="/docs-assets/swagger-ui-bundle.js", swagger_css_url="/docs-assets/swagger-ui.css", swagger_favicon_url="/docs-assets/favicon-32x32.png")

    @app.get("/docs-assets/{name}", include_in_schema=False)
    def docs_asset(name: str) -> FileResponse:
        if name not in swagger:
            raise HTTPException(404, f"no asset {name}")
        return FileResponse(swagger[name])

    # ---- health and metrics ----

    @app.get("/healthz", tags=["service"], summary="Whether the server, its workers and its database are up (no token needed)")
    def healthz() -> JSONResponse:
        try:
            store.ping()
            database = "ok"
        except StoreError as error:
            database = str(error)
        healthy = service.ready and database == "ok"
        body = {"status": "ok" if healthy else "unavailable", "version": __version__, "workers": config.workers, "ready": service.ready, "database": database}
        return JSONResponse(body, status_code=200 if healthy else 503)

    @app.get("/metrics", tags=["service"], summary="Prometheus metrics: requests, latencies, recognitions, reads and cameras")
    def metrics(_role: str = Depends(role)) -> Response:
        return Response(generate_latest(service.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/v1/whoami", tags=["service"], summary="The role of the token sent: admin or read")
    def whoami(found: str = Depends(role)) -> dict:
        return {"role": found}

    # ---- recognition ----

    snapshot_body = {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["upload"],
                        "properties": {
                            "upload": {"type": "string", "format": "binary", "description": "the image file, or its base64 text"},
                            "regions": {"type": "array", "items": {"type": "string"}, "description": "region codes to read for, e.g. us-ca (repeatable)"},
                            "camera_id": {"type": "string"},
                            "timestamp": {"type": "string", "description": "ISO 8601 time of the photo"},
                            "config": {"type": "string", "description": "engine configuration as JSON (accepted, not used)"},
                            "store": {"type": "boolean", "description": "also store the reads (admin token)"},
                        },
                    }
                }
            },
        }
    }

    @app.post(
        "/v1/plate-reader/", status_code=201, tags=["Plate Recognizer"], openapi_extra=snapshot_body,
        summary="Read plates in an image, answered as Plate Recognizer's Snapshot API answers",
    )  # fmt: skip
    async def plate_reader(request: Request, store_reads: bool = Query(False, alias="store"), found: str = Depends(role)) -> JSONResponse:
        started = time.perf_counter()
        # Plate Recognizer's clients may send the image as a base64 form field: let such a field be as large as an upload.
        form = await request.form(max_files=1, max_fields=64, max_part_size=config.max_upload_bytes * 4 // 3 + 4)
        upload = form.get("upload")
        if upload is None:
            raise HTTPException(400, "upload is required: the image file, or its base64 text" + (" (upload_url is not supported)" if "upload_url" in form else ""))
        if isinstance(upload, StarletteUploadFile):
            data, name = await upload.read(), upload.filename or "upload"
        else:
            text = upload.split(",", 1)[1] if upload.startswith("data:") else upload
            try:
                data, name = base64.b64decode("".join(text.split()), validate=True), "upload"
            except (binascii.Error, ValueError):
                raise HTTPException(400, "upload: not a file, nor valid base64 text") from None
        try:
            regions = region_codes([value for value in form.getlist("regions") if isinstance(value, str)])
            stamp = snapshot_timestamp(form.get("timestamp") if isinstance(form.get("timestamp"), str) else None, datetime.now(timezone.utc))
            engine = form.get("config")
            if isinstance(engine, str) and engine.strip() and not isinstance(json.loads(engine), dict):
                raise ValueError("config must be a JSON object")
        except json.JSONDecodeError:
            raise HTTPException(400, "config: not valid JSON") from None
        except ValueError as error:
            raise HTTPException(400, str(error)) from None
        store_reads = store_reads or str(form.get("store", "")).lower() in ("1", "true", "yes", "on")
        if store_reads and found != "admin":
            raise HTTPException(403, "store=true needs an admin token")
        camera = form.get("camera_id") if isinstance(form.get("camera_id"), str) and form.get("camera_id") else None
        profile = service.recognizer.model.profile
        region = chosen_region(regions, {profile.code, *(f"{profile.code}-{sub}" for sub in profile.subregions)}, service.recognizer.region)
        recognition = await recognized(data, name, None if region == service.recognizer.region else region)
        if store_reads:
            await run_in_threadpool(service.store_uploaded, recognition, data, camera or "api", stamp)
        took_ms = (time.perf_counter() - started) * 1000
        body = snapshot_response(recognition.result, recognition.detection_scores, region, recognition.size, camera, stamp, took_ms)
        return JSONResponse(body, status_code=201)

    @app.post("/v1/recognize", tags=["recognition"], summary="Read plates in an image: the record `lpr recognize --json` prints")
    async def recognize(upload: UploadFile = File(..., description="the image file"), _role: str = Depends(role)) -> dict:
        data = await upload.read()
        recognition = await recognized(data, upload.filename or "upload", None)
        return recognition.result.to_dict()

    # ---- reads ----

    @app.get("/v1/reads", tags=["reads"], summary="Stored reads, newest first, filtered as `lpr reads` filters, one page at a time")
    def list_reads(
        plate: str | None = Query(None, description="only this plate"),
        near: bool = Query(False, description="with plate: also plates one character or OCR look-alikes away"),
        camera: str | None = Query(None),
        since: str | None = Query(None, description="ISO 8601 date or time (without a zone, UTC): first seen at or after"),
        until: str | None = Query(None, description="ISO 8601 date or time: first seen before (a bare date includes that day)"),
        hotlist_only: bool = Query(False),
        limit: int = Query(config.page_size, ge=1, le=config.max_page_size),
        cursor: str | None = Query(None, description="next_cursor of the previous page"),
        _role: str = Depends(role),
    ) -> dict:
        try:
            if near and not plate:
                raise ValueError("near needs a plate")
            bounds = (parse_time(since) if since else None, parse_time(until, end_of_day=True) if until else None)
            before = decode_cursor(cursor) if cursor else None
        except ValueError as error:
            raise HTTPException(400, str(error)) from None
        found = store.reads(plate=plate, near=near, camera=camera, since=bounds[0], until=bounds[1], hotlist_only=hotlist_only, limit=limit + 1, before=before)
        page, more = found[:limit], len(found) > limit
        return {"reads": [read_json(read) for read in page], "next_cursor": encode_cursor(page[-1]) if more else None}

    def stored_read(read_id: str) -> VehicleRead:
        read = store.read(read_id)
        if read is None:
            raise HTTPException(404, f"no read {read_id}")
        return read

    @app.get("/v1/reads/{read_id}", tags=["reads"], summary="One stored read")
    def get_read(read_id: str, _role: str = Depends(role)) -> dict:
        return read_json(stored_read(read_id))

    @app.get("/v1/reads/{read_id}/crop.jpg", tags=["reads"], summary="A read's plate crop (JPEG)", response_class=FileResponse)
    def read_crop(read_id: str, _role: str = Depends(role)) -> FileResponse:
        return _picture(stored_read(read_id).crop_path, "crop")

    @app.get("/v1/reads/{read_id}/frame.jpg", tags=["reads"], summary="A read's best frame (JPEG)", response_class=FileResponse)
    def read_frame(read_id: str, _role: str = Depends(role)) -> FileResponse:
        return _picture(stored_read(read_id).frame_path, "frame")

    def _picture(stored: str | None, kind: str) -> FileResponse:
        path = media_file(config.media_dir, stored)
        if path is None:
            reason = "the server has no media folder (--media)" if config.media_dir is None else "it is not in the media folder"
            raise HTTPException(404, f"no {kind} picture for this read: {'none was saved' if not stored else reason}")
        return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"})

    @app.get("/v1/events", tags=["reads"], summary="New reads as they are stored (server-sent events: event 'read', data the read's JSON)")
    async def events(request: Request, _role: str = Depends(role)) -> StreamingResponse:
        queue = service.live.subscribe()

        async def stream():
            try:
                yield ": connected\n\n"
                while not await request.is_disconnected():
                    try:
                        message = await asyncio.wait_for(queue.get(), timeout=config.keepalive_s)
                    except asyncio.TimeoutError:
                        yield ": keepalive\n\n"
                        continue
                    if message is None:
                        return
                    yield f"event: read\ndata: {json.dumps(message)}\n\n"
            finally:
                service.live.unsubscribe(queue)

        return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    # ---- hotlist ----

    def entry_json(entry: HotlistEntry, source: str) -> dict:
        return {"plate": entry.plate, "list": entry.list, "note": entry.note, "source": source}

    @app.get("/v1/hotlist", tags=["hotlist"], summary="Every hotlist entry in the database, with what added it")
    def list_hotlist(_role: str = Depends(role)) -> dict:
        return {"entries": [entry_json(entry, source) for entry, source in store.hotlist_sources()]}

    @app.post("/v1/hotlist", status_code=201, tags=["hotlist"], summary="Add one entry (admin)")
    def add_hotlist(entry: HotlistEntryIn, _role: str = Depends(admin)) -> dict:
        plate = normalize_plate(entry.plate)
        try:
            added = store.add_hotlist_entry(HotlistEntry(plate, entry.list.strip() or "hotlist", entry.note), source="api")
        except ValueError as error:
            raise HTTPException(400, str(error)) from None
        if not added:
            raise HTTPException(409, f"{plate} is already on list {entry.list}")
        return entry_json(HotlistEntry(plate, entry.list.strip() or "hotlist", entry.note), "api")

    @app.delete("/v1/hotlist/{plate}", status_code=204, tags=["hotlist"], summary="Delete a plate's entries, of one list or of all (admin)")
    def delete_hotlist(plate: str, list_name: str | None = Query(None, alias="list"), _role: str = Depends(admin)) -> Response:
        if store.delete_hotlist_entry(plate, list_name) == 0:
            raise HTTPException(404, f"{normalize_plate(plate)} is on no{' such' if list_name else ''} hotlist")
        return Response(status_code=204)

    @app.post("/v1/hotlist/import", tags=["hotlist"], summary="Import a CSV of plate,list,note rows, replacing an earlier import of the same name (admin)")
    async def import_hotlist(file: UploadFile = File(...), source: str | None = Query(None, description="name of the import (default: the file's name)"), _role: str = Depends(admin)) -> dict:
        name = source or file.filename or "upload.csv"
        try:
            entries, errors = parse_hotlist((await file.read()).decode("utf-8-sig"), name)
        except UnicodeDecodeError:
            raise HTTPException(400, f"{name}: not UTF-8 text") from None
        except ValueError as error:
            raise HTTPException(400, str(error)) from None
        count = await run_in_threadpool(store.replace_hotlist, name, entries)
        return {"imported": count, "skipped": errors}

    # ---- cameras ----

    @app.get("/v1/cameras", tags=["cameras"], summary="Each watched camera's status: connected, fps, dropped frames, last error")
    def cameras(_role: str = Depends(role)) -> dict:
        now = datetime.now(timezone.utc)
        shown = []
        for status in store.camera_statuses():
            data = status.to_dict()
            data["stale"] = (now - status.updated_at).total_seconds() > config.camera_stale_s
            shown.append(data)
        return {"cameras": shown}

    return app


def _swagger_assets() -> dict[str, Path]:
    """Nothing in, {file name: path} of the Swagger UI files lpr serves for /docs out (empty when swagger-ui-bundle is not installed)."""
    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:
        return {}
    folder = Path(swagger_ui_path)
    return {name: folder / name for name in ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png") if (folder / name).is_file()}


def watching(watcher_run: Callable[[threading.Event], object], name: str = "lpr-serve-watch") -> tuple[Callable[[], None], Callable[[], None]]:
    """A function running the cameras until its stop event is set in, the (start, stop) pair of a thread running it out."""
    stop = threading.Event()
    thread = threading.Thread(target=lambda: _run_logged(watcher_run, stop), name=name, daemon=True)

    def join() -> None:
        stop.set()
        thread.join(timeout=30)

    return thread.start, join


def _run_logged(run: Callable[[threading.Event], object], stop: threading.Event) -> None:
    try:
        run(stop)
    except Exception as error:  # noqa: BLE001 - the cameras stop; the API goes on, and says why in the log
        logger.error("the cameras stopped: %s", one_line(error))


def serve(service: Service, host: str, port: int) -> None:
    """A Service and the address to listen on in; serves until SIGINT or SIGTERM, then stops the cameras and the workers."""
    import uvicorn

    app = limit_and_measure(create_app(service), service)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, lifespan="on", timeout_graceful_shutdown=5))
    server.run()

