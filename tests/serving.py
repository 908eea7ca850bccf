"""`lpr serve` started as a user starts it, for the server and browser tests: a subprocess on a free local port, with a token file, a reads database and a media folder."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import cv2

from lpr.geometry import Box
from lpr.records import HotlistMatch, TextCandidate, VehicleRead
from lpr.store import open_store
from lpr.watch import WatchConfig, save_read_media

REPO = Path(__file__).resolve().parent.parent
SAMPLE_SCENE = REPO / "datasets" / "samples" / "scenes" / "scene-02.jpg"
# Where the plate of scene-02.jpg (BKK3953) is, as lpr reads it.
SAMPLE_PLATE_BOX = Box(673, 448, 93, 47)
ADMIN_TOKEN = "admin-token-for-tests-0123456789"
READ_TOKEN = "read-only-token-for-tests-0123456789"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    """A running `lpr serve`: its URL, tokens, database, media folder, process and log file."""

    url: str
    admin_token: str
    read_token: str
    db_url: str
    media_dir: Path
    process: subprocess.Popen
    log: Path

    def request(self, method: str, path: str, token: str | None = "admin", body: bytes | None = None, headers: dict | None = None, timeout: float = 60) -> tuple[int, dict, bytes]:
        """One HTTP request in (token "admin", "read", None or a literal token), (status, headers, body bytes) out."""
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Token {self.admin_token if token == 'admin' else self.read_token if token == 'read' else token}"
        request = urllib.request.Request(self.url + path, data=body, method=method, headers=sent)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def json(self, method: str, path: str, token: str | None = "admin", body: bytes | None = None, headers: dict | None = None) -> tuple[int, dict]:
        status, _, data = self.request(method, path, token, body, headers)
        return status, json.loads(data)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def multipart(fields: Sequence[tuple[str, str | tuple[str, bytes, str]]]) -> tuple[bytes, str]:
    """Form fields in ((name, text) or (name, (file name, bytes, type))), (body, content type) out, as an HTTP client encodes a form."""
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields:
        if isinstance(value, tuple):
            filename, data, kind = value
            head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\nContent-Type: {kind}\r\n\r\n'
            parts.append(head.encode() + data + b"\r\n")
        else:
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


@contextmanager
def running_server(tmp_path: Path, database_url: str | None = None, extra_args: Sequence[str] = (), workers: int = 1, ready_timeout_s: float = 120) -> Iterator[Server]:
    """A folder for its files and a database URL (default: SQLite in the folder) in, a running `lpr serve` out; stopped with SIGTERM (then killed) at the end."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    tokens = tmp_path / "tokens"
    tokens.write_text(f"# test tokens\n{ADMIN_TOKEN}\n{READ_TOKEN} read\n")
    media = tmp_path / "media"
    db_url = database_url or f"sqlite:///{tmp_path / 'reads.db'}"
    port = free_port()
    log = tmp_path / f"serve-{port}.log"
    command = [sys.executable, "-m", "lpr", "serve", "--port", str(port), "--db", db_url, "--media", str(media), "--token-file", str(tokens), "--workers", str(workers), *extra_args]
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)})
    server = Server(f"http://127.0.0.1:{port}", ADMIN_TOKEN, READ_TOKEN, db_url, media, process, log)
    try:
        deadline = time.monotonic() + ready_timeout_s
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"lpr serve exited with {process.returncode}: {server.log_text()}")
            try:
                status, _, _ = server.request("GET", "/healthz", token=None, timeout=2)
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"lpr serve was not ready within {ready_timeout_s} s: {server.log_text()}")
            time.sleep(0.2)
        yield server
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def store_read(server: Server, plate: str = "BKK3953", camera: str = "gate", match: HotlistMatch | None = None, first_seen: datetime | None = None) -> VehicleRead:
    """A running server and a plate in, a read stored in its database with a crop and frame cut from the sample scene (as `lpr watch` saves them) out."""
    seen = first_seen or datetime.now(timezone.utc)
    read = VehicleRead(
        id=uuid.uuid4().hex, plate=plate, confidence=0.9731, candidates=(TextCandidate(plate, 0.9731), TextCandidate(plate[:-1] + "8", 0.0112)),
        camera=camera, source="rtsp://127.0.0.1:8554/gate", first_seen=seen, last_seen=seen, source_offset_s=None, frames_seen=7,
        box=SAMPLE_PLATE_BOX, crop_path=None, frame_path=None, match=match,
    )  # fmt: skip
    image = cv2.imread(str(SAMPLE_SCENE))
    read = save_read_media(read, image, server.media_dir, WatchConfig(), lambda line: None)
    with open_store(server.db_url) as store:
        store.add_read(read)
    return read
