"""What `lpr serve` sustains: 8 clients sending 200 Plate Recognizer requests of real 1280x720 scenes, with 1 and with 2 workers.

Run from the repository root:  python bench/serve_load.py  (options: --scenes FOLDER, --clients N, --requests N, --workers 1 2, --retry-s S)
Writes results/serve_load.json and prints the figures.

Each setting starts `lpr serve` as a user does (a subprocess on a free 127.0.0.1 port, a temporary SQLite
database), waits for /healthz, sends one warm-up request per worker, then has --clients threads send
--requests POST /v1/plate-reader/ requests in all, each an upload of one of the scenes (in turn). A client
told 429 (every worker busy and the queue full) waits --retry-s and sends again, as Plate Recognizer's
client does after its rate limit. Latency is from a request's first attempt to its answer. Every answer
must hold the plates the first answer for that scene held: a request lost or mixed up fails the run.
The clients run on the same 2 cores as the server, as they would on a small gate box.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from common import DEFAULT_SCENES, REPO, frames_of_size, machine, scene_paths, write_results

TOKEN = "bench-admin-token-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def upload_body(path: Path) -> tuple[bytes, str]:
    """An image in, the multipart body of a Plate Recognizer request for it and its content type out."""
    boundary = uuid.uuid4().hex
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="upload"; filename="{path.name}"\r\nContent-Type: image/jpeg\r\n\r\n'
    return head.encode() + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def post(url: str, body: bytes, kind: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method="POST", headers={"Authorization": f"Token {TOKEN}", "Content-Type": kind})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def start_server(folder: Path, workers: int) -> tuple[subprocess.Popen, str]:
    """A folder and a worker count in, a ready `lpr serve` process and its URL out."""
    tokens = folder / "tokens"
    tokens.write_text(TOKEN + "\n")
    port = free_port()
    command = [sys.executable, "-m", "lpr", "serve", "--port", str(port), "--db", f"sqlite:///{folder / 'reads.db'}", "--token-file", str(tokens), "--workers", str(workers)]
    log = (folder / "serve.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONPATH": str(REPO)})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"lpr serve exited: {(folder / 'serve.log').read_text()}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return process, url
        except OSError:
            pass
        time.sleep(0.2)
    process.kill()
    sys.exit("lpr serve was not ready within 120 s")


def run_load(url: str, bodies: list[tuple[bytes, str]], clients: int, requests: int, retry_s: float) -> dict:
    """A server, the request bodies and the load's shape in, its figures out; exits when an answer differs from the first for its scene."""
    route = url + "/v1/plate-reader/"
    expected: dict[int, list[str]] = {}
    latencies: list[float] = []
    refused = 0
    lock = threading.Lock()

    def one(index: int) -> None:
        nonlocal refused
        scene = index % len(bodies)
        body, kind = bodies[scene]
        start = time.perf_counter()
        while True:
            status, data = post(route, body, kind)
            if status != 429:
                break
            with lock:
                refused += 1
            time.sleep(retry_s)
        elapsed = time.perf_counter() - start
        if status != 201:
            sys.exit(f"request {index}: HTTP {status}: {data[:200]!r}")
        plates = [result["plate"] for result in json.loads(data)["results"]]
        with lock:
            latencies.append(elapsed)
            if expected.setdefault(scene, plates) != plates:
                sys.exit(f"request {index}: scene {scene} read {plates}, earlier {expected[scene]}")

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, range(requests)))
    wall = time.perf_counter() - start
    return {
        "requests": requests,
        "answered": len(latencies),
        "seconds": round(wall, 2),
        "requests_per_s": round(len(latencies) / wall, 2),
        "latency_ms": {
            "p50": round(float(np.percentile(latencies, 50)) * 1000, 1),
            "p95": round(float(np.percentile(latencies, 95)) * 1000, 1),
            "max": round(max(latencies) * 1000, 1),
        },
        "answers_429": refused,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=Path, default=DEFAULT_SCENES)
    parser.add_argument("--images", type=int, default=40, help="how many 1280x720 scenes the requests cycle through")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--retry-s", type=float, default=0.1, help="a client's wait after a 429")
    args = parser.parse_args()
    scenes = frames_of_size(scene_paths(args.scenes))[: args.images]
    if not scenes:
        sys.exit(f"no 1280x720 scenes in {args.scenes}")
    bodies = [upload_body(path) for path in scenes]
    figures = {"machine": machine(), "scenes": len(scenes), "clients": args.clients, "retry_s": args.retry_s, "runs": {}}
    for workers in args.workers:
        with tempfile.TemporaryDirectory() as folder:
            process, url = start_server(Path(folder), workers)
            try:
                # One request per worker first: the first recognition in a process pays its imports and caches.
                run_load(url, bodies, workers, workers, args.retry_s)
                figures["runs"][str(workers)] = run = run_load(url, bodies, args.clients, args.requests, args.retry_s)
            finally:
                process.terminate()
                process.wait(timeout=30)
        latency = run["latency_ms"]
        print(f"{workers} worker(s): {run['requests_per_s']} requests/s, p50 {latency['p50']} ms, p95 {latency['p95']} ms, {run['answers_429']} answers 429, {run['answered']}/{run['requests']} answered")
    if "1" in figures["runs"] and "2" in figures["runs"]:
        figures["speedup_2_workers"] = round(figures["runs"]["2"]["requests_per_s"] / figures["runs"]["1"]["requests_per_s"], 2)
        print(f"2 workers / 1 worker: {figures['speedup_2_workers']}x")
    print(f"wrote {write_results('serve_load', figures)}")


if __name__ == "__main__":
    main()
