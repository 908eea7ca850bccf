"""lpr.alerts: delivery from the outbox to a real HTTP receiver, a real command and a real Mosquitto broker, all on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import paho.mqtt.client as mqtt
import postgres_server
import pytest

from lpr.alerts import AlertDeliverer, DeliveryConfig, DeliveryReport, MqttTarget, alert_payload, destinations, mqtt_target
from lpr.geometry import Box
from lpr.records import HotlistMatch, TextCandidate, VehicleRead
from lpr.store import RetryConfig, open_store

postgres = postgres_server.postgres
database_url = postgres_server.database_url
free_port = postgres_server.free_port

STOLEN = HotlistMatch("XYZ9876", "stolen", "black Ford F-150, case 2291", "exact", 0, "XYZ9876")
# First retry after 10 s, then 20 s, 40 s: tests move `now` instead of sleeping.
RETRY = RetryConfig(first_delay_s=10.0, factor=2.0, max_delay_s=300.0)
FAST = DeliveryConfig(http_timeout_s=0.5, command_timeout_s=2.0, mqtt_timeout_s=2.0, poll_interval_s=0.05)


def vehicle_read(plate: str = "XYZ9876", match: HotlistMatch | None = STOLEN) -> VehicleRead:
    """A read of one vehicle passing a camera, on the hotlist unless match is None."""
    now = datetime.now(timezone.utc)
    return VehicleRead(
        id=uuid.uuid4().hex,
        plate=plate,
        confidence=0.93,
        candidates=(TextCandidate(plate, 0.93),),
        camera="gate-north",
        source="rtsp://10.0.0.21:554/stream1",
        first_seen=now,
        last_seen=now + timedelta(seconds=1.8),
        source_offset_s=None,
        frames_seen=14,
        box=Box(612, 388, 142, 71),
        crop_path=None,
        frame_path=None,
        match=match,
    )


def soon() -> datetime:
    """A moment by which every alert queued so far is due."""
    return datetime.now(timezone.utc) + timedelta(seconds=1)


@pytest.fixture
def url(database_url) -> str:
    """A new, empty reads database on SQLite or PostgreSQL (postgres_server.database_url)."""
    return database_url


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'reads.db'}"


class Receiver:
    """A webhook receiver on 127.0.0.1: answers each POST per `plan` (a status, or "hang"), then 200; records every request."""

    def __init__(self, port: int | None = None, plan: list[int | str] | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/alerts"
        self.plan = list(plan or [])
        self.requests: list[tuple[dict[str, str], dict]] = []
        self.server: ThreadingHTTPServer | None = None

    @property
    def delivered(self) -> list[dict]:
        """The bodies of the requests answered 200."""
        return [body for (headers, body) in self.requests if headers["answer"] == "200"]

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                answer = receiver.plan.pop(0) if receiver.plan else 200
                receiver.requests.append(({**dict(self.headers), "answer": str(answer)}, body))
                if answer == "hang":
                    time.sleep(1.0)
                    answer = 200
                self.send_response(answer)
                if answer == 302:
                    self.send_header("Location", "/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:
                receiver.requests.append(({"answer": "GET"}, {}))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        # A short poll keeps stop() quick.
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture
def receivers():
    """Makes Receivers and stops them all after the test."""
    made: list[Receiver] = []

    def make(**kwargs) -> Receiver:
        made.append(Receiver(**kwargs))
        return made[-1]

    yield make
    for receiver in made:
        receiver.stop()


def errors(caplog) -> list[str]:
    """The lpr.alerts error lines logged so far; each must be one line without a traceback."""
    records = [r for r in caplog.records if r.name == "lpr.alerts"]
    assert all(r.levelno == logging.ERROR and r.exc_info is None and "\n" not in r.getMessage() for r in records)
    return [r.getMessage() for r in records]


def test_destinations_are_validated():
    assert destinations(["http://10.0.0.5:8080/alerts", "https://hooks.example.com/x?token=1"], "notify-desk --loud", "mqtt://broker.local/lpr/alerts") == [
        "http://10.0.0.5:8080/alerts",
        "https://hooks.example.com/x?token=1",
        "command:notify-desk --loud",
        "mqtt://broker.local/lpr/alerts",
    ]
    assert destinations([], None, None) == []
    assert mqtt_target("mqtt://broker.local/lpr/alerts") == mqtt_target("mqtt://broker.local:1883/lpr/alerts")
    assert mqtt_target("mqtt://10.0.0.7:8883/gate%20north") == MqttTarget("10.0.0.7", 8883, "gate north")
    for args, message in [
        ((["ftp://10.0.0.5/alerts"], None, None), "alert URL 'ftp://10.0.0.5/alerts' must be http://"),
        ((["10.0.0.5:8080/alerts"], None, None), "must be http://"),
        ((["http:///alerts"], None, None), "must be http://"),
        ((["http://10.0.0.5:80a/alerts"], None, None), "malformed port"),
        (([], "  ", None), "the alert command is empty"),
        (([], None, "mqtt://broker.local"), "must be mqtt://HOST"),
        (([], None, "mqtt://broker.local/lpr/#"), "without \\+ or #"),
        (([], None, "http://broker.local/lpr"), "must be mqtt://HOST"),
        (([], None, "mqtt://broker.local:99999/lpr"), "malformed port"),
    ]:
        with pytest.raises(ValueError, match=message):
            destinations(*args)


def test_the_payload_is_what_the_store_queues(sqlite_url):
    read = vehicle_read()
    with open_store(sqlite_url) as store:
        store.add_read(read, alerts_to=["http://127.0.0.1:9/alerts"])
        (alert,) = store.due_alerts(soon())
    assert alert.payload == alert_payload(read, alert.id) == json.loads(json.dumps(alert_payload(read, alert.id)))
    assert alert.payload["read"]["match"] == STOLEN.to_dict()


def test_a_webhook_gets_every_alert_once_after_5xx_retries_honouring_the_backoff(url, receivers, caplog):
    receiver = receivers(plan=[503, 503]).start()
    with open_store(url, RETRY) as store:
        hits = [vehicle_read() for _ in range(3)]
        for read in [*hits, vehicle_read("ABC1234", match=None)]:
            store.add_read(read, alerts_to=[receiver.url])
        queued = {a.id: a.payload for a in store.due_alerts(soon())}
        deliverer = AlertDeliverer(store, FAST)
        t0 = soon()
        # The first 503 stops this pass's attempts at the receiver: the other two wait their backoff too.
        assert deliverer.deliver_due(t0) == DeliveryReport(0, 3) and len(receiver.requests) == 1
        assert deliverer.deliver_due(t0 + timedelta(seconds=9.9)) == DeliveryReport() and len(receiver.requests) == 1
        assert deliverer.deliver_due(t0 + timedelta(seconds=10)) == DeliveryReport(0, 3) and len(receiver.requests) == 2
        assert deliverer.deliver_due(t0 + timedelta(seconds=29.9)) == DeliveryReport()
        assert deliverer.deliver_due(t0 + timedelta(seconds=30)) == DeliveryReport(3, 0)
        assert deliverer.deliver_due(t0 + timedelta(days=1)) == DeliveryReport() and len(receiver.requests) == 5
    # Exactly the queued alerts, each once, with the read it is about.
    assert sorted(b["alert_id"] for b in receiver.delivered) == sorted(queued)
    assert all(b == queued[b["alert_id"]] for b in receiver.delivered)
    assert {b["read"]["id"] for b in receiver.delivered} == {r.id for r in hits}
    assert all(h["Idempotency-Key"] == b["alert_id"] and h["Content-Type"] == "application/json" for h, b in receiver.requests)
    logged = errors(caplog)
    assert len(logged) == 2 and all(f"to {receiver.url} failed" in line and "HTTP 503 Service Unavailable" in line for line in logged)
    assert "(attempt 1)" in logged[0] and "(attempt 2)" in logged[1]


def test_4xx_3xx_and_timeouts_are_retried_not_given_up(sqlite_url, receivers, caplog):
    # Kept until a 2xx: a 404 or 401 is a receiver being fixed, and a followed redirect would turn the POST into a bodiless GET.
    receiver = receivers(plan=[404, 400, 302, "hang", 429]).start()
    with open_store(sqlite_url, RETRY) as store:
        store.add_read(vehicle_read(), alerts_to=[receiver.url])
        deliverer = AlertDeliverer(store, FAST)
        now = soon()
        for _ in range(5):
            assert deliverer.deliver_due(now) == DeliveryReport(0, 1)
            now += timedelta(seconds=300)
        assert deliverer.deliver_due(now) == DeliveryReport(1, 0)
    assert [h["answer"] for h, _ in receiver.requests] == ["404", "400", "302", "hang", "429", "200"]
    logged = errors(caplog)
    assert [line.split(": ", 1)[1].split(";")[0] for line in logged] == [
        "HTTP 404 Not Found",
        "HTTP 400 Bad Request",
        "HTTP 302 Found",
        "no answer within 0.5 s",
        "HTTP 429 Too Many Requests",
    ]


def test_a_receiver_that_is_down_gets_the_alerts_after_it_comes_up_and_lpr_restarts(url, receivers, caplog):
    receiver = receivers()
    read = vehicle_read()
    with open_store(url, RETRY) as store:
        store.add_read(read, alerts_to=[receiver.url])
        (alert,) = store.due_alerts(soon())
        assert AlertDeliverer(store, FAST).deliver_due() == DeliveryReport(0, 1)
    assert "Connection refused" in errors(caplog)[0]
    # lpr restarts: a new Store and AlertDeliverer on the same database finish what the first left.
    receiver.start()
    with open_store(url, RETRY) as store:
        assert store.due_alerts(soon()) == []
        assert AlertDeliverer(store, FAST).deliver_due(soon() + timedelta(seconds=10)) == DeliveryReport(1, 0)
    assert receiver.delivered == [alert_payload(read, alert.id)]
    assert receiver.requests[0][0]["Idempotency-Key"] == alert.id


def test_run_delivers_in_the_background_until_stopped(sqlite_url, receivers):
    receiver = receivers().start()
    with open_store(sqlite_url) as store:
        store.add_read(vehicle_read(), alerts_to=[receiver.url])
        stop = threading.Event()
        worker = threading.Thread(target=AlertDeliverer(store, FAST).run, args=(stop,))
        worker.start()
        try:
            wait_for(lambda: len(receiver.delivered) == 1)
            store.add_read(vehicle_read(), alerts_to=[receiver.url])
            wait_for(lambda: len(receiver.delivered) == 2)
        finally:
            stop.set()
            worker.join(timeout=5)
        assert not worker.is_alive() and store.due_alerts(soon() + timedelta(days=1)) == []


def wait_for(condition, timeout_s: float = 5.0) -> None:
    """Wait until condition() holds; fail after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


NOTIFY = """
import pathlib, sys
data = sys.stdin.buffer.read()
folder = pathlib.Path(sys.argv[1])
if not (folder / "desk-online").exists():
    sys.exit("desk offline")
(folder / f"{len(list(folder.glob('*.json')))}.json").write_bytes(data)
"""


def test_a_command_gets_the_alert_on_stdin_and_a_failing_one_is_retried(sqlite_url, tmp_path, caplog):
    (tmp_path / "notify.py").write_text(NOTIFY)
    command = f"{sys.executable} {tmp_path / 'notify.py'} {tmp_path}"
    read = vehicle_read()
    with open_store(sqlite_url, RETRY) as store:
        store.add_read(read, alerts_to=destinations([], command, None))
        (alert,) = store.due_alerts(soon())
        deliverer = AlertDeliverer(store, FAST)
        assert deliverer.deliver_due(soon()) == DeliveryReport(0, 1)
        (tmp_path / "desk-online").touch()
        assert deliverer.deliver_due(soon() + timedelta(seconds=10)) == DeliveryReport(1, 0)
    assert json.loads((tmp_path / "0.json").read_text()) == alert_payload(read, alert.id)
    assert len(list(tmp_path.glob("*.json"))) == 1
    assert errors(caplog) == [f"alert {alert.id} to command:{command} failed (attempt 1): exit status 1: desk offline; next try at {errors(caplog)[0].rsplit('at ', 1)[1]}"]


def test_a_command_that_hangs_is_killed_with_its_children(sqlite_url, caplog):
    with open_store(sqlite_url) as store:
        # The shell forks sleep, which holds the pipes open: killing the shell alone would hang the deliverer for 30 s.
        store.add_read(vehicle_read(), alerts_to=["command:sleep 30; true", "command:exit 0", "command:/nonexistent/notify"])
        started = time.monotonic()
        report = AlertDeliverer(store, DeliveryConfig(command_timeout_s=0.5)).deliver_due(soon())
        assert time.monotonic() - started < 5 and report == DeliveryReport(1, 2)
    logged = sorted(errors(caplog))
    assert "killed after 0.5 s without finishing" in logged[0] + logged[1] and "exit status 127" in logged[0] + logged[1]


class Mosquitto:
    """A Mosquitto broker on a 127.0.0.1 port, anonymous, logging to a file; start() and stop() it as often as needed."""

    def __init__(self, folder, port: int | None = None) -> None:
        self.port = port or free_port()
        self.config = folder / "mosquitto.conf"
        self.config.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\nlog_dest stderr\nlog_type all\n")
        self.log = folder / "mosquitto.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> Mosquitto:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(["mosquitto", "-c", str(self.config)], stdout=log, stderr=log)
        wait_for(self._listening)
        return self

    def _listening(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            return True
        except OSError:
            assert self.process.poll() is None, self.log.read_text()
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=5)

    def connections(self) -> int:
        """How many clients other than the test's subscriber have connected so far."""
        return sum("New client connected" in line and "as subscriber" not in line for line in self.log.read_text().splitlines())


@pytest.fixture
def mosquitto(tmp_path):
    """A Mosquitto broker, not yet started; skips when the mosquitto binary is not installed."""
    if shutil.which("mosquitto") is None:
        pytest.skip("Mosquitto MQTT broker not installed (apt-get install mosquitto)")
    broker = Mosquitto(tmp_path)
    yield broker
    broker.stop()


class Subscriber:
    """A paho client subscribed (QoS 1) to one topic, collecting the messages' JSON."""

    def __init__(self, port: int, topic: str) -> None:
        self.messages: list[dict] = []
        subscribed = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="subscriber")
        self.client.on_connect = lambda client, *_: client.subscribe(topic, qos=1)
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.on_message = lambda _client, _userdata, message: self.messages.append(json.loads(message.payload))
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert subscribed.wait(5), "subscription not acknowledged"

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_mqtt_alerts_arrive_on_the_topic_over_one_reused_connection(sqlite_url, mosquitto):
    mosquitto.start()
    subscriber = Subscriber(mosquitto.port, "lpr/alerts")
    try:
        with open_store(sqlite_url) as store:
            reads = [vehicle_read() for _ in range(3)]
            for read in reads[:2]:
                store.add_read(read, alerts_to=[f"mqtt://127.0.0.1:{mosquitto.port}/lpr/alerts"])
            queued = [a.payload for a in store.due_alerts(soon())]
            deliverer = AlertDeliverer(store, FAST)
            assert deliverer.deliver_due() == DeliveryReport(2, 0)
            store.add_read(reads[2], alerts_to=[f"mqtt://127.0.0.1:{mosquitto.port}/lpr/alerts"])
            queued += [a.payload for a in store.due_alerts(soon())]
            assert deliverer.deliver_due() == DeliveryReport(1, 0)
            deliverer.close()
        wait_for(lambda: len(subscriber.messages) == 3)
    finally:
        subscriber.close()
    assert subscriber.messages == queued and [m["read"]["id"] for m in queued] == [r.id for r in reads]
    assert mosquitto.connections() == 1


def test_mqtt_alerts_wait_for_a_broker_that_is_down_and_survive_its_restart(sqlite_url, mosquitto, caplog):
    destination = f"mqtt://127.0.0.1:{mosquitto.port}/lpr/alerts"
    with open_store(sqlite_url, RETRY) as store:
        store.add_read(vehicle_read(), alerts_to=[destination])
        deliverer = AlertDeliverer(store, FAST)
        now = soon()
        assert deliverer.deliver_due(now) == DeliveryReport(0, 1)
        assert f"cannot connect to MQTT broker 127.0.0.1:{mosquitto.port}: Connection refused" in errors(caplog)[0]
        mosquitto.start()
        subscriber = Subscriber(mosquitto.port, "lpr/alerts")
        try:
            assert deliverer.deliver_due(now + timedelta(seconds=10)) == DeliveryReport(1, 0)
            wait_for(lambda: len(subscriber.messages) == 1)
            # The broker restarts under the deliverer's open connection: it reconnects, at worst after one failed try.
            subscriber.close()
            mosquitto.stop()
            mosquitto.start()
            subscriber = Subscriber(mosquitto.port, "lpr/alerts")
            store.add_read(vehicle_read(), alerts_to=[destination])
            now += timedelta(seconds=20)
            reports = [deliverer.deliver_due(now), deliverer.deliver_due(now + timedelta(seconds=10))]
            assert sum(r.delivered for r in reports) == 1
            wait_for(lambda: len(subscriber.messages) == 1)
        finally:
            subscriber.close()
            deliverer.close()
        assert store.due_alerts(now + timedelta(days=1)) == []
