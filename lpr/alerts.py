"""Alert delivery: the outbox's due alerts sent to webhooks, shell commands and MQTT brokers.

An alert is marked delivered only once its receiver acknowledged it (a 2xx answer, exit
status 0, a PUBACK), so a crash between sending and marking sends it again after a restart:
delivery is at least once, and the payload's alert_id (a webhook also gets it as the
Idempotency-Key header) lets a receiver drop a repeat. Every failure is one logged line
and a retry after the outbox's backoff (RetryConfig); no alert is ever given up.

Any non-2xx answer is retried, 4xx included: the store has no "given up" state, and a 401,
404 or 400 is nearly always a receiver misconfigured or mid-deploy, which gets every alert
once fixed; the backoff's ceiling keeps a receiver that stays wrong at one try per alert
every few minutes. A 3xx is a failure too: following it would turn the POST into a GET
without the alert, which a 2xx would then mark delivered.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import os
import signal
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt

from .records import VehicleRead
from .store import OutboxAlert, Store, StoreError

logger = logging.getLogger("lpr.alerts")

COMMAND = "command:"
MQTT_PORT = 1883


class DeliveryError(Exception):
    """One alert could not be delivered this time; the message is one line saying why."""


@dataclass(frozen=True)
class DeliveryConfig:
    """How long a delivery may take and how often the outbox is polled."""

    # A receiver that hangs must not hold up the alerts behind it for long.
    http_timeout_s: float = 10.0
    # A notification script may do network calls of its own; one that hangs is killed.
    command_timeout_s: float = 30.0
    # Bounds both the connection to the broker and the wait for its PUBACK.
    mqtt_timeout_s: float = 10.0
    # How long a new alert can wait in the outbox before it leaves.
    poll_interval_s: float = 1.0
    # Alerts taken per pass, so a backlog after an outage is sent in bounded transactions.
    batch_size: int = 100


@dataclass(frozen=True)
class DeliveryReport:
    """What one pass over the outbox did: alerts delivered, and alerts failed (each due again after its backoff)."""

    delivered: int = 0
    failed: int = 0


@dataclass(frozen=True)
class MqttTarget:
    """Where an mqtt:// destination publishes: the broker's host and port, and the topic."""

    host: str
    port: int
    topic: str


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _webhook(url: str) -> str:
    """An http(s):// URL in, the same out; ValueError with one line when it is malformed."""
    parts = urlsplit(url)
    try:
        parts.port
    except ValueError:
        raise ValueError(f"alert URL {url!r} has a malformed port") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"alert URL {url!r} must be http://HOST[:PORT]/PATH or https://...")
    return url


def mqtt_target(url: str) -> MqttTarget:
    """An mqtt://HOST[:PORT]/TOPIC URL in, its broker and topic out; ValueError with one line when it is malformed."""
    parts = urlsplit(url)
    try:
        port = MQTT_PORT if parts.port is None else parts.port
    except ValueError:
        raise ValueError(f"MQTT URL {url!r} has a malformed port") from None
    topic = unquote(parts.path[1:])
    # A publish topic may not hold wildcards; urlsplit would take a "#" or "?" as the start of a fragment or query and drop the rest.
    if parts.scheme != "mqtt" or not parts.hostname or not topic or "+" in topic or "#" in topic or "#" in url or "?" in url:
        raise ValueError(f"MQTT URL {url!r} must be mqtt://HOST[:PORT]/TOPIC, the topic without + or #")
    return MqttTarget(parts.hostname, port, topic)


def destinations(alert_urls: Sequence[str], alert_command: str | None, mqtt_url: str | None) -> list[str]:
    """Webhook URLs, a shell command and an MQTT URL (each optional) in, the outbox destinations out; ValueError with one line for a malformed one."""
    found = [_webhook(url) for url in alert_urls]
    if alert_command is not None:
        if not alert_command.strip():
            raise ValueError("the alert command is empty")
        found.append(COMMAND + alert_command)
    if mqtt_url is not None:
        mqtt_target(mqtt_url)
        found.append(mqtt_url)
    return found


def alert_payload(read: VehicleRead, alert_id: str) -> dict[str, Any]:
    """A hotlist read and its alert's id in, the JSON object a receiver gets out (the one Store.add_read queues; the match is read["match"])."""
    return {"alert_id": alert_id, "read": read.to_dict()}


def _why(error: BaseException, timeout_s: float) -> str:
    """A network or OS error in, one line saying what went wrong out."""
    if isinstance(error, urllib.error.URLError) and isinstance(error.reason, BaseException):
        error = error.reason
    if isinstance(error, TimeoutError):
        return f"no answer within {timeout_s:g} s"
    text = getattr(error, "strerror", None) or getattr(error, "reason", None) or str(error)
    return " ".join(str(text).split()) or type(error).__name__


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    # urllib would follow a 301/302/303 with a GET that leaves the alert behind.
    def redirect_request(self, *args: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_RefuseRedirects)


def post_webhook(url: str, body: bytes, alert_id: str, timeout_s: float) -> None:
    """A webhook URL, the alert's JSON, its id and a timeout in; returns once the receiver answered 2xx, DeliveryError otherwise."""
    headers = {"Content-Type": "application/json", "Idempotency-Key": alert_id, "User-Agent": "lpr"}
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        # urllib raises HTTPError for any answer outside 2xx.
        with _OPENER.open(request, timeout=timeout_s):
            pass
    except urllib.error.HTTPError as error:
        error.close()
        raise DeliveryError(f"HTTP {error.code} {error.reason}".strip()) from None
    except (OSError, http.client.HTTPException, ValueError) as error:
        raise DeliveryError(_why(error, timeout_s)) from None


def run_command(command: str, body: bytes, timeout_s: float) -> None:
    """A shell command, the alert's JSON (its standard input) and a timeout in; returns once it exits 0, DeliveryError otherwise (killed on timeout)."""
    try:
        # Its own process group, so a timeout kills whatever the shell started too, not just the shell.
        process = subprocess.Popen(command, shell=True, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    except OSError as error:
        raise DeliveryError(f"cannot start the command: {_why(error, timeout_s)}") from None
    try:
        _, stderr = process.communicate(body, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise DeliveryError(f"killed after {timeout_s:g} s without finishing") from None
    if process.returncode != 0:
        status = f"killed by signal {-process.returncode}" if process.returncode < 0 else f"exit status {process.returncode}"
        last = stderr.decode(errors="replace").strip().splitlines()[-1:]
        raise DeliveryError(f"{status}: {last[0][:300]}" if last else status)


class MqttBroker:
    """A connection to one MQTT broker, made when first needed, reused, and made anew after any failure."""

    def __init__(self, host: str, port: int, timeout_s: float) -> None:
        self.host = host
        self.port = port
        self.timeout_s = timeout_s
        self._client: mqtt.Client | None = None

    def _connect(self) -> mqtt.Client:
        """A client connected to the broker (CONNACK received) out; DeliveryError when it is unreachable or refuses."""
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        client.connect_timeout = self.timeout_s
        answered = threading.Event()
        refusal: list[str] = []

        def on_connect(_client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _properties: Any) -> None:
            if reason.is_failure:
                refusal.append(str(reason))
            answered.set()

        client.on_connect = on_connect
        try:
            client.connect(self.host, self.port)
        except (OSError, ValueError) as error:
            raise DeliveryError(f"cannot connect to MQTT broker {self.host}:{self.port}: {_why(error, self.timeout_s)}") from None
        client.loop_start()
        if not answered.wait(self.timeout_s) or refusal:
            _close(client)
            why = f"refused the connection: {refusal[0]}" if refusal else f"sent no CONNACK within {self.timeout_s:g} s"
            raise DeliveryError(f"MQTT broker {self.host}:{self.port} {why}")
        return client

    def publish(self, topic: str, body: bytes) -> None:
        """A topic and a message in; returns once the broker acknowledged it (QoS 1, PUBACK), DeliveryError otherwise."""
        if self._client is not None and not self._client.is_connected():
            self.close()
        if self._client is None:
            self._client = self._connect()
        try:
            message = self._client.publish(topic, body, qos=1)
            message.wait_for_publish(self.timeout_s)
            if message.is_published():
                return
            error = f"no PUBACK within {self.timeout_s:g} s"
        except (RuntimeError, ValueError, OSError) as failure:
            error = str(failure)
        # Whatever broke, a fresh connection is the next attempt's best chance.
        self.close()
        raise DeliveryError(f"MQTT broker {self.host}:{self.port}: {error}")

    def close(self) -> None:
        """Disconnect (if connected) and stop the client's network thread."""
        if self._client is not None:
            _close(self._client)
            self._client = None


def _close(client: mqtt.Client) -> None:
    client.disconnect()
    client.loop_stop()


class AlertDeliverer:
    """Sends a Store's due alerts; a new one (after a restart) carries on where the last left off, since the outbox lives in the database."""

    def __init__(self, store: Store, config: DeliveryConfig = DeliveryConfig()) -> None:
        self.store = store
        self.config = config
        self._brokers: dict[tuple[str, int], MqttBroker] = {}

    def _send(self, alert: OutboxAlert) -> None:
        """An outbox alert in; returns once its receiver acknowledged it, DeliveryError otherwise."""
        body = json.dumps(alert.payload).encode()
        destination = alert.destination
        try:
            if destination.startswith(COMMAND):
                run_command(destination[len(COMMAND) :], body, self.config.command_timeout_s)
            elif destination.startswith("mqtt:"):
                target = mqtt_target(destination)
                broker = self._brokers.get((target.host, target.port))
                if broker is None:
                    broker = self._brokers[target.host, target.port] = MqttBroker(target.host, target.port, self.config.mqtt_timeout_s)
                broker.publish(target.topic, body)
            elif destination.startswith(("http:", "https:")):
                post_webhook(_webhook(destination), body, alert.id, self.config.http_timeout_s)
            else:
                raise DeliveryError("unknown kind of destination (use http://, https://, mqtt:// or command:)")
        except ValueError as error:
            raise DeliveryError(str(error)) from None

    def deliver_due(self, now: datetime | None = None) -> DeliveryReport:
        """The time now (default: the clock) in; each due alert sent and marked delivered or failed; the counts out. StoreError when the database fails."""
        delivered = failed = 0
        # A destination that failed once in this pass is not tried again in it: a receiver
        # that times out would otherwise hold up every other alert for batch_size timeouts.
        down: dict[str, str] = {}
        for alert in self.store.due_alerts(now or _utcnow(), self.config.batch_size):
            error = down.get(alert.destination)
            tried = error is None
            if tried:
                try:
                    self._send(alert)
                except DeliveryError as failure:
                    error = down[alert.destination] = str(failure)
            if error is None:
                self.store.mark_delivered(alert.id, now or _utcnow())
                delivered += 1
                continue
            due = self.store.mark_failed(alert.id, error, now or _utcnow())
            failed += 1
            if tried:
                logger.error("alert %s to %s failed (attempt %d): %s; next try at %s", alert.id, alert.destination, alert.attempts + 1, error, due.isoformat(timespec="seconds"))
        return DeliveryReport(delivered, failed)

    def run(self, stop_event: threading.Event) -> None:
        """A stop event in; delivers due alerts every poll interval until it is set (meant as a background thread's target), then closes the MQTT connections."""
        try:
            while not stop_event.is_set():
                try:
                    self.deliver_due()
                except StoreError as error:
                    # The alerts stay in the outbox; the next pass tries the database again.
                    logger.error("alert delivery paused: %s", error)
                stop_event.wait(self.config.poll_interval_s)
        finally:
            self.close()

    def close(self) -> None:
        """Close the connections to MQTT brokers."""
        for broker in self._brokers.values():
            broker.close()
        self._brokers.clear()
