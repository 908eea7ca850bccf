"""Test media for the source tests: small clips made from a real scene, written as MJPG .avi or H.264, and RTSP and MJPEG servers on 127.0.0.1.

FFmpeg's own RTSP output cannot serve players (its `listen` flag only receives pushed
streams), so RtspServer is a minimal RTSP 1.0 server: one looping H.264 clip, RTP over the
RTSP TCP connection (interleaved, RFC 2326 10.12; RFC 6184 packetization), nothing else.
"""

from __future__ import annotations

import base64
import itertools
import shutil
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
SCENES = [REPO.parent / "shared" / "data" / "us-scenes", REPO / "datasets" / "samples" / "scenes"]
SIZE = (320, 180)
# RTP payloads stay under a typical MTU, so big NAL units take the FU-A path as from a real camera.
MAX_PAYLOAD = 1400
_VCL_TYPES = {1, 5}


def scene() -> np.ndarray:
    """A real scene (../shared/data/us-scenes, else the shipped samples) in, resized to SIZE, as BGR out."""
    for folder in SCENES:
        images = sorted(folder.glob("*.jpg"))
        if images:
            return cv2.resize(cv2.imread(str(images[0])), SIZE, interpolation=cv2.INTER_AREA)
    raise FileNotFoundError("no scene image in ../shared/data/us-scenes or datasets/samples/scenes")


def clip(count: int) -> list[np.ndarray]:
    """Frame count in, that many distinct frames out: the scene shifted 7 pixels further right in each."""
    image = scene()
    return [np.roll(image, 7 * index, axis=1) for index in range(count)]


def nearest(image: np.ndarray, frames: list[np.ndarray]) -> int:
    """A decoded frame and the clip in, the index of the clip frame it is closest to out (recovers order through lossy codecs)."""
    errors = [float(np.mean(np.abs(image.astype(np.int16) - frame.astype(np.int16)))) for frame in frames]
    return int(np.argmin(errors))


def write_avi(path: Path, frames: list[np.ndarray], fps: float = 10.0) -> Path:
    """Frames in, an MJPG .avi written by OpenCV out (needs no ffmpeg program)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, SIZE)
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def write_h264(path: Path, frames: list[np.ndarray], fps: float = 10.0) -> Path:
    """Frames in, H.264 written by the ffmpeg program out: .mp4, or an Annex B stream for .h264; a keyframe every second, no B-frames."""
    container = ["-f", "h264"] if path.suffix == ".h264" else []
    command = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{SIZE[0]}x{SIZE[1]}", "-r", str(fps), "-i", "-"]
    command += ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", str(int(fps)), "-bf", "0", *container, str(path)]
    subprocess.run(command, input=b"".join(f.tobytes() for f in frames), check=True, capture_output=True)
    return path


def has_ffmpeg() -> bool:
    """Whether the ffmpeg program is on PATH."""
    return shutil.which("ffmpeg") is not None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def access_units(stream: bytes) -> list[list[bytes]]:
    """An Annex B H.264 stream in, its pictures out, each the list of its NAL units (one slice per picture, as x264 writes by default)."""
    nals = [nal.strip(b"\x00") for nal in stream.split(b"\x00\x00\x01")]
    units: list[list[bytes]] = []
    for nal in filter(None, nals):
        if not units or any(n[0] & 0x1F in _VCL_TYPES for n in units[-1]):
            units.append([])
        units[-1].append(nal)
    return units


def rtp_payloads(nal: bytes) -> list[bytes]:
    """One NAL unit in, its RTP payloads out: itself when small, else FU-A fragments (RFC 6184 5.8)."""
    if len(nal) <= MAX_PAYLOAD:
        return [nal]
    indicator, kind, body = (nal[0] & 0xE0) | 28, nal[0] & 0x1F, nal[1:]
    pieces = [body[i : i + MAX_PAYLOAD - 2] for i in range(0, len(body), MAX_PAYLOAD - 2)]
    return [bytes([indicator, kind | (0x80 if i == 0 else 0) | (0x40 if i == len(pieces) - 1 else 0)]) + p for i, p in enumerate(pieces)]


class RtspServer:
    """Serves one looping H.264 clip at rtsp://127.0.0.1:PORT/cam; stop() drops every client like a camera going away, pause() stalls the streams."""

    def __init__(self, h264: bytes, fps: float = 10.0) -> None:
        self.units = access_units(h264)
        self.fps = fps
        self.port = free_port()
        self.url = f"rtsp://127.0.0.1:{self.port}/cam"
        self.paused = threading.Event()
        self._listener: socket.socket | None = None
        self._clients: list[socket.socket] = []
        sps = next(n for u in self.units for n in u if n[0] & 0x1F == 7)
        pps = next(n for u in self.units for n in u if n[0] & 0x1F == 8)
        sprop = f"{base64.b64encode(sps).decode()},{base64.b64encode(pps).decode()}"
        self.sdp = (
            "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=lpr test\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\n"
            f"a=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1;sprop-parameter-sets={sprop}\r\na=framerate:{self.fps:g}\r\na=control:track1\r\n"
        )

    def start(self) -> RtspServer:
        """Listen on the port (the same one after a stop) and serve clients in threads."""
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(8)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def stop(self) -> None:
        """Close the listening socket and every client connection."""
        # shutdown() first: a plain close() leaves a socket blocked in accept() or recv() open until that call returns.
        for connection in [self._listener, *self._clients] if self._listener else self._clients:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            connection.close()
        self._listener = None
        self._clients.clear()

    def _accept(self, listener: socket.socket) -> None:
        """Accept clients until the listening socket is closed."""
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            self._clients.append(client)
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        """Answer one client's RTSP requests; skip the RTCP reports it sends interleaved; stream after PLAY."""
        reader, lock, playing = client.makefile("rb"), threading.Lock(), threading.Event()
        try:
            while first := reader.read(1):
                if first == b"$":
                    header = reader.read(3)
                    reader.read(int.from_bytes(header[1:3], "big"))
                    continue
                lines = [(first + reader.readline()).decode()]
                while lines[-1].strip():
                    lines.append(reader.readline().decode())
                headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if ":" in line)}
                reader.read(int(headers.get("content-length", 0)))
                method = lines[0].split()[0]
                reply, body = "200 OK", ""
                extra = "Session: 4c5052;timeout=60\r\n" if method in ("SETUP", "PLAY", "GET_PARAMETER") else ""
                if method == "OPTIONS":
                    extra = "Public: OPTIONS, DESCRIBE, SETUP, PLAY, GET_PARAMETER, TEARDOWN\r\n"
                elif method == "DESCRIBE":
                    extra, body = f"Content-Base: {self.url}/\r\nContent-Type: application/sdp\r\n", self.sdp
                elif method == "SETUP" and "TCP" not in headers.get("transport", ""):
                    reply, extra = "461 Unsupported Transport", ""
                elif method == "SETUP":
                    extra += "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n"
                response = f"RTSP/1.0 {reply}\r\nCSeq: {headers.get('cseq', '0')}\r\n{extra}Content-Length: {len(body.encode())}\r\n\r\n{body}"
                with lock:
                    client.sendall(response.encode())
                if method == "PLAY" and not playing.is_set():
                    playing.set()
                    threading.Thread(target=self._stream, args=(client, lock), daemon=True).start()
                if method == "TEARDOWN":
                    break
        except (OSError, ValueError, IndexError):
            pass
        finally:
            client.close()

    def _stream(self, client: socket.socket, lock: threading.Lock) -> None:
        """Send the clip's pictures as RTP packets on channel 0 at fps, looping, until the connection closes."""
        sequence, picture = 0, 0
        try:
            while True:
                if self.paused.is_set():
                    time.sleep(0.02)
                    continue
                unit = self.units[picture % len(self.units)]
                payloads = [p for nal in unit for p in rtp_payloads(nal)]
                stamp = int(picture * 90000 / self.fps) & 0xFFFFFFFF
                for number, payload in enumerate(payloads):
                    marker = 0x80 if number == len(payloads) - 1 else 0
                    packet = bytes([0x80, marker | 96]) + (sequence & 0xFFFF).to_bytes(2, "big") + stamp.to_bytes(4, "big") + b"LPR1" + payload
                    with lock:
                        client.sendall(b"$\x00" + len(packet).to_bytes(2, "big") + packet)
                    sequence += 1
                picture += 1
                time.sleep(1 / self.fps)
        except OSError:
            pass


class MjpegServer:
    """Serves the clip as an MJPEG stream (multipart/x-mixed-replace, as IP cameras do) at http://127.0.0.1:PORT/video.mjpg, looping at fps."""

    def __init__(self, frames: list[np.ndarray], fps: float = 10.0) -> None:
        jpegs = [cv2.imencode(".jpg", frame)[1].tobytes() for frame in frames]

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                try:
                    for number in itertools.count():
                        jpeg = jpegs[number % len(jpegs)]
                        self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n%s\r\n" % (len(jpeg), jpeg))
                        time.sleep(1 / fps)
                except OSError:
                    pass

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/video.mjpg"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()


class SilentServer:
    """A TCP port on 127.0.0.1 that accepts connections (in the kernel's backlog) and never answers: a capture opening it blocks."""

    def __init__(self) -> None:
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(8)
        self.url = f"rtsp://127.0.0.1:{self._listener.getsockname()[1]}/cam"

    def stop(self) -> None:
        """Close the port."""
        self._listener.close()
