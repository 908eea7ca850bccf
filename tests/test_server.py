"""lpr serve, started as a user starts it (a subprocess on a free local port) on SQLite and on a real PostgreSQL server: the Plate Recognizer route, lpr's API, bad input, tokens and load."""

from __future__ import annotations

import base64
import json
import socket
import statistics
import struct
import threading
import time
import urllib.request
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import postgres_server
import pytest
from serving import SAMPLE_SCENE, Server, free_port, multipart, running_server, store_read

from lpr.pipeline import Recognizer
from lpr.records import HotlistMatch

REPO = Path(__file__).resolve().parent.parent
SCENES = sorted((REPO / "datasets" / "samples" / "scenes").glob("*.jpg"))
postgres = postgres_server.postgres


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request, tmp_path_factory) -> Server:
    """One running server per database kind for the module."""
    folder = tmp_path_factory.mktemp(f"serve-{request.param}")
    url = None if request.param == "sqlite" else request.getfixturevalue("postgres").new_database()
    with running_server(folder, url) as running:
        yield running


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    return Recognizer()


def plate_recognizer_client(server: Server, path: Path, regions=(), camera_id=None, timestamp=None, config=None, api_key=None, query: str = "") -> tuple[int, dict]:
    """A client written the way Plate Recognizer's own (plate_recognition.py) is: form data regions + config JSON (+ camera_id, timestamp), the file as `upload`, `Authorization: Token KEY`, and up to 3 tries while the answer is 429."""
    fields = [("regions", region) for region in regions] + [("config", json.dumps(config or {}))]
    fields += [(name, value) for name, value in (("camera_id", camera_id), ("timestamp", timestamp)) if value]
    fields.append(("upload", (path.name, path.read_bytes(), "application/octet-stream")))
    body, kind = multipart(fields)
    for _ in range(3):
        status, _, data = server.request("POST", f"/v1/plate-reader/{query}", token=api_key or "admin", body=body, headers={"Content-Type": kind})
        if status != 429:
            break
        time.sleep(1)
    return status, json.loads(data)


def post_upload(server: Server, path: str, data: bytes, name: str = "upload.jpg", token: str = "admin", field: str = "upload") -> tuple[int, dict]:
    body, kind = multipart([(field, (name, data, "application/octet-stream"))])
    status, _, answer = server.request("POST", path, token=token, body=body, headers={"Content-Type": kind})
    return status, json.loads(answer)


def test_health_needs_no_token_and_says_the_workers_and_database_are_up(server):
    status, health = server.json("GET", "/healthz", token=None)
    assert status == 200 and health["status"] == "ok" and health["ready"] and health["database"] == "ok"


@pytest.mark.parametrize("scene", SCENES, ids=[p.stem for p in SCENES])
def test_the_plate_recognizer_route_reads_the_samples_as_lpr_recognize_does(server, recognizer, scene):
    expected = recognizer.recognize(cv2.imread(str(scene)))
    status, answer = plate_recognizer_client(server, scene, regions=["us"], camera_id="gate-7", timestamp="2024-05-01T12:00:00Z")
    assert status == 201
    assert answer["version"] == 1 and answer["filename"] == scene.name and answer["camera_id"] == "gate-7"
    assert answer["timestamp"] == "2024-05-01T12:00:00.000000Z" and answer["processing_time"] > 0
    assert (answer["image_width"], answer["image_height"]) == (1280, 720)
    assert [r["plate"] for r in answer["results"]] == [p.text.lower() for p in expected]
    for result, plate in zip(answer["results"], expected):
        assert result["box"] == {"xmin": plate.box.x, "ymin": plate.box.y, "xmax": plate.box.x + plate.box.w, "ymax": plate.box.y + plate.box.h}
        assert result["score"] == round(plate.confidence, 3) and 0 < result["dscore"] <= 1
        # The shipped US model tells the state from the plate's look.
        assert result["region"] == {"code": plate.region.code, "score": round(plate.region.score, 3)}
        assert result["region"]["code"].startswith("us-") and 0 < result["region"]["score"] <= 1
        assert result["candidates"][0] == {"score": result["score"], "plate": result["plate"]}
        assert set(result) >= {"box", "plate", "region", "score", "candidates", "dscore", "vehicle"}


def test_a_state_region_and_a_base64_upload_are_taken(server):
    body, kind = multipart([("upload", base64.b64encode(SAMPLE_SCENE.read_bytes()).decode()), ("regions", "us-ca"), ("regions", "fr")])
    status, _, data = server.request("POST", "/v1/plate-reader/", body=body, headers={"Content-Type": kind})
    answer = json.loads(data)
    assert status == 201 and [r["plate"] for r in answer["results"]] == ["bkk3953"]
    assert answer["results"][0]["region"]["code"].startswith("us-") and answer["camera_id"] is None


def test_recognize_returns_the_record_of_lpr_recognize_json(server, recognizer):
    status, record = post_upload(server, "/v1/recognize", SAMPLE_SCENE.read_bytes(), name="scene-02.jpg")
    expected = [p.record().to_dict() for p in recognizer.recognize(cv2.imread(str(SAMPLE_SCENE)))]
    assert status == 200 and record["image"] == "scene-02.jpg" and record["error"] is None
    assert record["plates"] == expected


def test_store_true_keeps_the_reads_with_the_camera_and_its_pictures(server):
    status, answer = plate_recognizer_client(server, SAMPLE_SCENE, camera_id="lobby-upload", timestamp="2024-05-01T12:00:00Z", query="?store=true")
    assert status == 201 and answer["results"][0]["plate"] == "bkk3953"
    status, page = server.json("GET", "/v1/reads?camera=lobby-upload")
    (read,) = page["reads"]
    assert read["plate"] == "BKK3953" and read["first_seen"] == "2024-05-01T12:00:00.000000Z" and read["source"] == "upload:scene-02.jpg"
    for kind in ("crop", "frame"):
        status, headers, picture = server.request("GET", read[f"{kind}_url"])
        assert status == 200 and headers["content-type"] == "image/jpeg"
        assert cv2.imdecode(np.frombuffer(picture, np.uint8), cv2.IMREAD_COLOR) is not None
    # Storing is a change: a read-only token may read plates but not store them.
    status, error = plate_recognizer_client(server, SAMPLE_SCENE, api_key=server.read_token, query="?store=true")
    assert status == 403 and "admin" in error["detail"]
    assert plate_recognizer_client(server, SAMPLE_SCENE, api_key=server.read_token)[0] == 201


def png_bomb(width: int, height: int) -> bytes:
    """A small PNG that declares width x height pixels of one colour: a decompression bomb."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\x00" + b"\x00" * width
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(64)) + compressor.flush()
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("data", "name", "status", "says"),
    [
        (b"", "empty.jpg", 400, "upload is empty"),
        (np.random.default_rng(5).bytes(20_000), "noise.jpg", 400, "not an image"),
        (b"plate,list,note\nABC123,stolen,\n", "plates.jpg", 400, "not an image"),
        (png_bomb(30_000, 30_000), "bomb.png", 400, "30000x30000 pixels"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 64, "truncated.jpg", 400, "image"),
    ],
    ids=["empty", "random-bytes", "text-file", "decompression-bomb", "truncated-jpeg"],
)
def test_bad_uploads_get_a_one_line_400_and_the_server_keeps_serving(server, data, name, status, says):
    for route in ("/v1/plate-reader/", "/v1/recognize"):
        got, error = post_upload(server, route, data, name=name)
        assert got == status and says in error["detail"] and "\n" not in error["detail"] and "Traceback" not in error["detail"]
    assert plate_recognizer_client(server, SAMPLE_SCENE)[0] == 201


def test_an_upload_over_the_size_limit_is_refused_with_413(server):
    big = b"\xff\xd8\xff\xe0" + bytes(50 * 1024 * 1024)
    status, error = post_upload(server, "/v1/plate-reader/", big, name="big.jpg")
    assert status == 413 and "over the limit" in error["detail"]
    # Sent without a length (chunked), it is refused as its bytes pass the limit.
    body, kind = multipart([("upload", ("big.jpg", big, "image/jpeg"))])
    request = urllib.request.Request(server.url + "/v1/plate-reader/", data=iter([body[i : i + (1 << 20)] for i in range(0, len(body), 1 << 20)]), method="POST")
    request.add_header("Authorization", f"Token {server.admin_token}")
    request.add_header("Content-Type", kind)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=60)
    assert refused.value.code == 413
    assert plate_recognizer_client(server, SAMPLE_SCENE)[0] == 201


def test_tokens_no_token_is_401_and_a_read_only_token_cannot_change_the_hotlist(server):
    for token in (None, "not-a-token-of-this-server-at-all"):
        status, error = server.json("GET", "/v1/reads", token=token)
        assert status == 401 and "token" in error["detail"]
        assert server.request("GET", "/metrics", token=token)[0] == 401
    assert server.json("GET", "/v1/whoami", token="read") == (200, {"role": "read"})
    entry = json.dumps({"plate": "RO1234", "list": "stolen", "note": ""}).encode()
    assert server.json("POST", "/v1/hotlist", token="read", body=entry, headers={"Content-Type": "application/json"})[0] == 403
    body, kind = multipart([("file", ("list.csv", b"RO1234,stolen,\n", "text/csv"))])
    assert server.request("POST", "/v1/hotlist/import", token="read", body=body, headers={"Content-Type": kind})[0] == 403
    assert server.request("DELETE", "/v1/hotlist/RO1234", token="read")[0] == 403
    assert all(e["plate"] != "RO1234" for e in server.json("GET", "/v1/hotlist", token="read")[1]["entries"])


def test_the_hotlist_is_edited_and_imported_through_the_api(server):
    entry = json.dumps({"plate": "xyz-9876", "list": "amber", "note": "case 2291"}).encode()
    status, added = server.json("POST", "/v1/hotlist", body=entry, headers={"Content-Type": "application/json"})
    assert status == 201 and added == {"plate": "XYZ9876", "list": "amber", "note": "case 2291", "source": "api"}
    assert server.json("POST", "/v1/hotlist", body=entry, headers={"Content-Type": "application/json"})[0] == 409
    body, kind = multipart([("file", ("stolen.csv", b"plate,list,note\nABC1234,stolen,grey Civic\nAB$%,stolen,\n", "text/csv"))])
    status, _, data = server.request("POST", "/v1/hotlist/import", body=body, headers={"Content-Type": kind})
    imported = json.loads(data)
    assert status == 200 and imported["imported"] == 1 and len(imported["skipped"]) == 1 and "line 3" in imported["skipped"][0]
    entries = server.json("GET", "/v1/hotlist")[1]["entries"]
    assert {"plate": "ABC1234", "list": "stolen", "note": "grey Civic", "source": "stolen.csv"} in entries
    assert server.request("DELETE", "/v1/hotlist/XYZ9876?list=amber")[0] == 204
    assert server.json("DELETE", "/v1/hotlist/XYZ9876?list=amber")[0] == 404


def test_reads_are_filtered_paged_and_found_by_id(server):
    match = HotlistMatch("PGE1234", "stolen", "", "exact", 0, "PGE1234")
    made = [store_read(server, plate=f"PGE{1230 + i}", camera="paging", match=match if i == 2 else None) for i in range(5)]
    pages, cursor = [], ""
    while True:
        status, page = server.json("GET", f"/v1/reads?camera=paging&limit=2{cursor}")
        assert status == 200
        pages.append([r["plate"] for r in page["reads"]])
        if page["next_cursor"] is None:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert pages == [["PGE1234", "PGE1233"], ["PGE1232", "PGE1231"], ["PGE1230"]]
    assert [r["plate"] for r in server.json("GET", "/v1/reads?plate=PGE1232")[1]["reads"]] == ["PGE1232"]
    near = [r["plate"] for r in server.json("GET", "/v1/reads?plate=PGE1238&near=true&camera=paging")[1]["reads"]]
    assert sorted(near) == sorted(f"PGE{1230 + i}" for i in range(5))
    assert [r["plate"] for r in server.json("GET", "/v1/reads?hotlist_only=true&camera=paging")[1]["reads"]] == ["PGE1232"]
    status, read = server.json("GET", f"/v1/reads/{made[0].id}")
    assert status == 200 and read["plate"] == "PGE1230" and read["crop_url"].endswith("/crop.jpg")
    assert server.json("GET", "/v1/reads/no-such-read")[0] == 404
    for bad in ("cursor=garbage", "since=yesterday", "limit=0", "near=true", "limit=many"):
        status, error = server.json("GET", f"/v1/reads?{bad}")
        assert status == 400 and "\n" not in error["detail"], bad


def test_media_routes_cannot_leave_the_media_folder(server, tmp_path):
    from dataclasses import replace

    from lpr.store import open_store

    outside = tmp_path / "secret.jpg"
    outside.write_bytes(SAMPLE_SCENE.read_bytes())
    read = store_read(server, plate="ESC4PE1", camera="escape")
    with open_store(server.db_url) as store:
        for path in (str(outside), str(server.media_dir / ".." / "secret.jpg"), "../../../../etc/passwd"):
            sneaky = replace(read, id=read.id + path[-6:].replace("/", "_"), crop_path=path, frame_path=path)
            store.add_read(sneaky)
            for kind in ("crop", "frame"):
                status, error = server.json("GET", f"/v1/reads/{sneaky.id}/{kind}.jpg")
                assert status == 404 and "not in the media folder" in error["detail"]


def test_a_stored_read_arrives_on_the_event_stream(server):
    request = urllib.request.Request(server.url + "/v1/events", headers={"Authorization": f"Token {server.read_token}"})
    received: list[dict] = []
    done = threading.Event()

    def listen() -> None:
        with urllib.request.urlopen(request, timeout=30) as stream:
            event = None
            for raw in stream:
                line = raw.decode().rstrip("\n")
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: ") and event == "read":
                    received.append(json.loads(line[6:]))
                    if received[-1]["plate"] == "LIVE123":
                        done.set()
                        return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    time.sleep(1.0)
    read = store_read(server, plate="LIVE123", camera="live")
    assert done.wait(15), f"no event for the stored read; got {received}"
    assert received[-1]["id"] == read.id and received[-1]["crop_url"] == f"/v1/reads/{read.id}/crop.jpg"


def test_metrics_count_requests_and_recognitions(server):
    plate_recognizer_client(server, SAMPLE_SCENE)
    status, headers, data = server.request("GET", "/metrics", token="read")
    text = data.decode()
    assert status == 200 and headers["content-type"].startswith("text/plain")
    assert 'lpr_http_requests_total{method="POST",route="/v1/plate-reader/",status="201"}' in text
    assert 'lpr_recognitions_total{outcome="read"}' in text and "lpr_http_request_duration_seconds_bucket" in text
    assert "lpr_plates_read_total" in text and "lpr_recognitions_in_flight" in text


def test_the_api_page_and_its_assets_are_served_offline(server):
    status, _, page = server.request("GET", "/docs", token=None)
    assert status == 200 and b"/docs-assets/swagger-ui-bundle.js" in page and b"cdn" not in page.lower()
    assert server.request("GET", "/docs-assets/swagger-ui-bundle.js", token=None)[0] == 200
    status, schema = server.json("GET", "/openapi.json", token=None)
    assert status == 200 and {"/v1/plate-reader/", "/v1/recognize", "/v1/reads", "/v1/reads/{read_id}", "/v1/hotlist", "/v1/cameras", "/healthz", "/metrics"} <= set(schema["paths"])
    status, _, index = server.request("GET", "/", token=None)
    assert status == 200 and b"<html" in index.lower()
    assert server.json("GET", "/assets/..%2Fserver.py", token=None)[0] == 404


def test_a_bounded_load_loses_no_request(server, recognizer):
    """8 clients send 200 requests (the Plate Recognizer client retries on 429): every one is answered with the plates of its image."""
    if not server.db_url.startswith("sqlite"):
        pytest.skip("recognition does not touch the database: the SQLite server's run covers it")
    images = [(path, [p.text.lower() for p in recognizer.recognize(cv2.imread(str(path)))]) for path in SCENES]
    latencies: list[float] = []
    refused = [0]

    def one(index: int) -> bool:
        path, expected = images[index % len(images)]
        fields = [("upload", (path.name, path.read_bytes(), "image/jpeg"))]
        body, kind = multipart(fields)
        start = time.perf_counter()
        while True:
            status, _, data = server.request("POST", "/v1/plate-reader/", body=body, headers={"Content-Type": kind})
            if status != 429:
                break
            refused[0] += 1
            time.sleep(0.05)
        latencies.append(time.perf_counter() - start)
        return status == 201 and [r["plate"] for r in json.loads(data)["results"]] == expected

    start = time.perf_counter()
    with ThreadPoolExecutor(8) as clients:
        answered = list(clients.map(one, range(200)))
    elapsed = time.perf_counter() - start
    assert all(answered) and len(answered) == 200
    # 8 clients against 1 worker and a queue of 4: some were told to come back, none was lost.
    assert refused[0] > 0
    p50, p95 = statistics.median(latencies), statistics.quantiles(latencies, n=20)[18]
    print(f"load: 200 requests, 8 clients: {200 / elapsed:.1f} requests/s, p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, {refused[0]} answers 429")


def test_one_process_watches_a_camera_and_serves_its_reads_and_status(tmp_path):
    from test_watch import one_pass_video

    video, label = one_pass_video(tmp_path)
    cameras_file = tmp_path / "cameras"
    cameras_file.write_text(f"# name source\ngate {video}\n")
    with running_server(tmp_path / "serve", extra_args=["--cameras", str(cameras_file)]) as server:
        deadline = time.monotonic() + 60
        reads: list[dict] = []
        while not reads and time.monotonic() < deadline:
            time.sleep(0.5)
            reads = server.json("GET", "/v1/reads?camera=gate")[1]["reads"]
        assert [read["plate"] for read in reads] == [label]
        assert server.request("GET", reads[0]["crop_url"])[0] == 200
        # The video has ended: its final status is stored, with every frame counted.
        deadline = time.monotonic() + 20
        cameras: list[dict] = []
        while time.monotonic() < deadline and not (cameras and cameras[0]["frames_read"] > 0):
            time.sleep(0.5)
            cameras = server.json("GET", "/v1/cameras", token="read")[1]["cameras"]
        (camera,) = cameras
        assert camera["camera"] == "gate" and camera["source"] == str(video) and camera["frames_read"] == int(cv2.VideoCapture(str(video)).get(cv2.CAP_PROP_FRAME_COUNT))
        assert camera["last_error"] is None and camera["stale"] is False
        assert 'lpr_camera_frames_read{camera="gate"}' in server.request("GET", "/metrics")[2].decode()


def test_serve_refuses_a_busy_port_a_bad_token_file_and_an_unreachable_database_in_one_line(tmp_path, capsys):
    from lpr.cli import main

    tokens = tmp_path / "tokens"
    tokens.write_text("short\n")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        cases = [
            (["--port", str(port)], "cannot listen on 127.0.0.1"),
            (["--port", str(free_port()), "--token-file", str(tokens)], "line 1: a token needs at least 16 characters"),
            (["--port", str(free_port()), "--token-file", str(tmp_path / "missing")], "cannot read token file"),
            (["--port", str(free_port()), "--db", f"postgresql://lpr@127.0.0.1:{free_port()}/reads"], "cannot open reads database"),
            (["--port", str(free_port()), "--cameras", str(tokens)], "line 1: expected NAME SOURCE"),
            (["--port", str(free_port()), "--watch", str(tmp_path / "missing.mp4")], "none of the cameras to watch could be opened"),
        ]
        for args, says in cases:
            assert main(["serve", "--db", f"sqlite:///{tmp_path / 'reads.db'}", *args]) == 2
            error = capsys.readouterr().err
            assert says in error and error.strip().splitlines()[-1].startswith("lpr: error:") and "Traceback" not in error, error

