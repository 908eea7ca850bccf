"""lpr.store: the reads database, every test on SQLite and on a real PostgreSQL server (skipped when none is installed)."""

from __future__ import annotations

import subprocess
import sys
import uuid
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import postgres_server
import pytest
from sqlalchemy import select, text

from lpr.geometry import Box
from lpr.hotlist import HotlistEntry
from lpr.records import CameraStatus, HotlistMatch, TextCandidate, VehicleRead
from lpr.store import SCHEMA_VERSION, RetryConfig, StoreError, open_store, schema_version

REPO = Path(__file__).resolve().parent.parent
postgres = postgres_server.postgres
database_url = postgres_server.database_url

T0 = datetime(2024, 5, 1, 14, 30, 5, 123456, tzinfo=timezone.utc)
STOLEN = HotlistMatch("XYZ9876", "stolen", "black Ford F-150, case 2291", "exact", 0, "XYZ9876")
ALERTS_TO = ["http://10.0.0.5:8080/alerts", "mqtt://broker.local/lpr/alerts", "command:/usr/local/bin/notify-desk"]


def vehicle_read(plate: str = "ABC1234", at: datetime = T0, camera: str = "gate-north", match: HotlistMatch | None = None, **changes) -> VehicleRead:
    """A read as `lpr watch` makes one: a pass of 1.8 s over 14 frames of a camera's stream, with its pictures saved."""
    read_id = uuid.uuid4().hex
    read = VehicleRead(
        id=read_id,
        plate=plate,
        confidence=0.934512,
        candidates=(TextCandidate(plate, 0.934512), TextCandidate(plate[:-1] + "8", 0.041207)),
        camera=camera,
        source="rtsp://10.0.0.21:554/stream1",
        first_seen=at,
        last_seen=at + timedelta(seconds=1, microseconds=800_001),
        source_offset_s=None,
        frames_seen=14,
        box=Box(612, 388, 142, 71),
        crop_path=f"2024-05-01/{read_id}-plate.jpg",
        frame_path=f"2024-05-01/{read_id}-frame.jpg",
        match=match,
    )
    return replace(read, **changes)


@pytest.fixture
def url(database_url) -> str:
    """A new, empty reads database on SQLite or PostgreSQL (postgres_server.database_url)."""
    return database_url


@pytest.fixture
def store(url):
    with open_store(url) as store:
        yield store


def soon() -> datetime:
    """A moment by which every alert queued so far is due."""
    return datetime.now(timezone.utc) + timedelta(seconds=1)


def test_a_read_comes_back_with_every_field(store):
    # Times given in another zone come back in UTC, the same instant to the microsecond.
    full = vehicle_read(
        at=datetime(2024, 5, 1, 16, 30, 5, 123457, tzinfo=timezone(timedelta(hours=2))),
        source="/videos/gate-north/2024-05-01T16-00.mp4",
        source_offset_s=(1805.123456, 1806.923457),
        match=HotlistMatch("ABC1234", "stolen", "grey Honda Civic", "lookalike", 1, "A8C1234"),
    )
    bare = vehicle_read("7XYZ123", at=T0, candidates=(), crop_path=None, frame_path=None, confidence=1.0)
    store.add_read(full)
    store.add_read(bare)
    got = store.reads()
    assert got == [full, bare]
    assert got[0].first_seen == datetime(2024, 5, 1, 14, 30, 5, 123457, tzinfo=timezone.utc) and got[0].first_seen.tzinfo == timezone.utc
    assert got[0].last_seen.microsecond == 923458 and got[1].source_offset_s is None and got[1].match is None


def test_vehicle_read_records_round_trip_through_json_and_refuse_malformed():
    read = vehicle_read(source_offset_s=(12.48, 14.28), match=STOLEN)
    record = read.to_dict()
    assert record["first_seen"] == "2024-05-01T14:30:05.123456Z" and record["last_seen"] == "2024-05-01T14:30:06.923457Z"
    assert VehicleRead.from_dict(record) == read
    assert VehicleRead.from_dict({**record, "first_seen": "2024-05-01T16:30:05.123456+02:00"}).first_seen == T0
    for change, message in [
        ({"first_seen": "2024-05-01T14:30:05"}, "first_seen must carry its time zone"),
        ({"last_seen": "yesterday"}, "last_seen must be an ISO 8601 time"),
        ({"source_offset_s": [1.0]}, "source_offset_s must be null or"),
        ({"frames_seen": 0}, "frames_seen must be a whole number of at least 1"),
        ({"crop_path": 3}, "crop_path must be null or a text"),
        ({"match": {**STOLEN.to_dict(), "kind": "near"}}, "match kind"),
    ]:
        with pytest.raises(ValueError, match=message):
            VehicleRead.from_dict({**record, **change})
    with pytest.raises(ValueError, match="malformed vehicle read"):
        VehicleRead.from_dict({k: v for k, v in record.items() if k != "camera"})
    with pytest.raises(ValueError, match="first_seen must be timezone-aware"):
        replace(read, first_seen=datetime(2024, 5, 1, 14, 30))


def test_filters_and_newest_first(store):
    minute = timedelta(minutes=1)
    for i, (plate, camera, match) in enumerate(
        [
            ("ABC1234", "gate-north", None),
            ("A8C1Z34", "gate-north", None),  # two OCR look-alikes of ABC1234
            ("ABC124", "gate-south", None),  # one character missed
            ("ABC12345", "gate-south", None),  # one character too many
            ("ABD1234", "gate-north", None),  # one substituted
            ("XYZ9876", "gate-south", STOLEN),
            ("ABD1294", "gate-north", None),  # two substituted: not near
            ("A8C12345", "gate-north", None),  # a look-alike and one too many: not near
        ]
    ):
        store.add_read(vehicle_read(plate, T0 + i * minute, camera, STOLEN if match else None))

    def plates(**filters) -> list[str]:
        return [r.plate for r in store.reads(**filters)]

    assert plates() == ["A8C12345", "ABD1294", "XYZ9876", "ABD1234", "ABC12345", "ABC124", "A8C1Z34", "ABC1234"]
    assert plates(plate="abc-1234") == ["ABC1234"]
    assert plates(plate="ABC1234", near=True) == ["ABD1234", "ABC12345", "ABC124", "A8C1Z34", "ABC1234"]
    assert plates(plate="ABC1234", near=True, limit=2) == ["ABD1234", "ABC12345"]
    assert plates(plate="ABC1234", near=True, camera="gate-south") == ["ABC12345", "ABC124"]
    assert plates(camera="gate-south") == ["XYZ9876", "ABC12345", "ABC124"]
    assert plates(since=T0 + 2 * minute, until=T0 + 4 * minute) == ["ABC12345", "ABC124"]
    # To the microsecond, and whatever zone the bound is given in.
    assert plates(since=T0 + timedelta(microseconds=1), until=T0 + minute) == []
    assert plates(until=(T0 + timedelta(microseconds=1)).astimezone(timezone(timedelta(hours=-7)))) == ["ABC1234"]
    assert plates(hotlist_only=True) == ["XYZ9876"]
    assert plates(limit=3) == ["A8C12345", "ABD1294", "XYZ9876"] and plates(limit=0) == []
    with pytest.raises(ValueError, match="a near search needs a plate"):
        store.reads(near=True)
    with pytest.raises(ValueError, match="since must be a timezone-aware datetime"):
        store.reads(since=datetime(2024, 5, 1))


def test_adding_a_read_twice_is_a_no_op(store):
    read = vehicle_read("XYZ9876", match=STOLEN)
    assert store.add_read(read, alerts_to=ALERTS_TO[:1]) is True
    # A retry after a lost connection, even one carrying other values, neither stores nor alerts again.
    assert store.add_read(replace(read, plate="XYZ9878"), alerts_to=ALERTS_TO) is False
    assert store.reads() == [read] and len(store.due_alerts(soon())) == 1


def test_alerts_are_queued_with_their_read_in_one_transaction(store):
    read = vehicle_read("XYZ9876", match=STOLEN)
    plain = vehicle_read("ABC1234", T0 + timedelta(minutes=1))
    store.add_read(read, alerts_to=ALERTS_TO)
    store.add_read(plain, alerts_to=ALERTS_TO)
    alerts = store.due_alerts(soon())
    assert sorted(a.destination for a in alerts) == sorted(ALERTS_TO)
    assert all(a.read_id == read.id and a.payload == {"alert_id": a.id, "read": read.to_dict()} for a in alerts)
    assert all(a.attempts == 0 and a.last_error is None and a.delivered_at is None for a in alerts)
    assert store.due_alerts(datetime.now(timezone.utc) - timedelta(minutes=1)) == []
    # An alert that cannot be stored takes its read with it: nobody is told of a read that is not there, nor does a read go unalerted.
    broken = vehicle_read("XYZ9876", T0 + timedelta(minutes=5), match=STOLEN)
    with pytest.raises(StoreError, match=r"^reads database .*(NOT NULL|not-null)"):
        store.add_read(broken, alerts_to=[ALERTS_TO[0], None])
    assert store.reads() == [plain, read] and {a.read_id for a in store.due_alerts(soon())} == {read.id}


def test_failed_alerts_back_off_exponentially_until_delivered(store):
    store.add_read(vehicle_read("XYZ9876", match=STOLEN), alerts_to=ALERTS_TO[:1])
    (alert,) = store.due_alerts(soon())
    now = soon()
    delays = []
    for failures in range(1, 12):
        due = store.mark_failed(alert.id, "POST http://10.0.0.5:8080/alerts: HTTP 503", now)
        delays.append((due - now).total_seconds())
        assert store.due_alerts(due - timedelta(microseconds=1)) == []
        (again,) = store.due_alerts(due)
        assert again.attempts == failures and again.next_attempt_at == due and again.last_error.endswith("HTTP 503")
        now = due
    assert delays == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]
    store.mark_delivered(alert.id, now)
    assert store.due_alerts(now + timedelta(days=1)) == []
    with pytest.raises(StoreError, match="no alert nope"):
        store.mark_failed("nope", "timeout", now)
    with pytest.raises(StoreError, match="no alert nope"):
        store.mark_delivered("nope", now)


def test_retry_delays_follow_their_settings():
    assert [RetryConfig(first_delay_s=0.5, factor=3.0, max_delay_s=2.0).delay_s(n) for n in range(1, 5)] == [0.5, 1.5, 2.0, 2.0]


def test_prune_deletes_old_reads_and_their_alerts_and_returns_their_pictures(store):
    now = datetime(2024, 6, 15, 3, 0, tzinfo=timezone.utc)
    old = vehicle_read("XYZ9876", now - timedelta(days=40), match=STOLEN)
    barely_old = vehicle_read("ABC1234", now - timedelta(days=30, microseconds=1), frame_path=None)
    kept = [vehicle_read("KLM4455", now - timedelta(days=29), match=STOLEN), vehicle_read("7XYZ123", now)]
    for read in (old, barely_old, *kept):
        store.add_read(read, alerts_to=ALERTS_TO[:2])
    assert sorted(store.prune(30, now), key=str) == sorted([(old.crop_path, old.frame_path), (barely_old.crop_path, None)], key=str)
    assert store.reads() == kept[::-1]
    assert {a.read_id for a in store.due_alerts(soon())} == {kept[0].id} and len(store.due_alerts(soon())) == 2
    assert store.prune(30, now) == []
    with pytest.raises(ValueError, match="keep_days must be at least 0"):
        store.prune(-1, now)


def test_importing_a_hotlist_again_replaces_its_entries(store):
    stolen = [HotlistEntry("ABC1234", "stolen", "grey Honda Civic"), HotlistEntry("XYZ9876", "stolen", "black Ford F-150")]
    assert store.replace_hotlist("stolen.csv", stolen) == 2
    store.replace_hotlist("amber.csv", [HotlistEntry("7XYZ123", "amber", "case 2291")])
    assert store.hotlist_entries() == [HotlistEntry("7XYZ123", "amber", "case 2291"), *stolen]
    store.replace_hotlist("stolen.csv", [HotlistEntry("KLM4455", "stolen", "")])
    assert store.hotlist_entries() == [HotlistEntry("7XYZ123", "amber", "case 2291"), HotlistEntry("KLM4455", "stolen", "")]
    store.replace_hotlist("amber.csv", [])
    assert store.hotlist_entries() == [HotlistEntry("KLM4455", "stolen", "")]


def test_the_schema_version_is_recorded_and_a_newer_one_refused(url):
    with open_store(url) as store:
        with store.engine.connect() as connection:
            ((_, _), (version, applied_at)) = connection.execute(select(schema_version).order_by(schema_version.c.version)).all()
        assert version == SCHEMA_VERSION == 2 and applied_at.tzinfo == timezone.utc
        store.add_read(vehicle_read())
    with open_store(url) as store:
        # Opening again applies nothing twice and keeps the reads.
        with store.engine.begin() as connection:
            assert connection.execute(select(schema_version.c.version).order_by(schema_version.c.version)).scalars().all() == [1, 2]
            connection.execute(schema_version.insert().values(version=99, applied_at=T0))
        assert len(store.reads()) == 1
    with pytest.raises(StoreError) as error:
        open_store(url)
    assert str(error.value).endswith("has schema version 99, newer than this lpr's 2: upgrade lpr") and "\n" not in str(error.value)


def test_an_unreachable_postgresql_server_is_one_line():
    port = postgres_server.free_port()
    with pytest.raises(StoreError) as error:
        open_store(f"postgresql://lpr:secret@127.0.0.1:{port}/reads")
    message = str(error.value)
    assert message.startswith(f"cannot open reads database postgresql://lpr:***@127.0.0.1:{port}/reads: ") and "Connection refused" in message
    assert "\n" not in message and "secret" not in message


def test_bad_urls_and_unwritable_sqlite_paths_are_one_line(tmp_path):
    (tmp_path / "notes.txt").write_text("a file where a folder should be")
    cases = [
        (f"sqlite:///{tmp_path / 'notes.txt' / 'reads.db'}", "cannot create folder"),
        (f"sqlite:///{tmp_path}", "unable to open database file"),
        ("sqlite://", "needs a file path"),
        ("reads.db", "not a database URL"),
        ("mysql://lpr@127.0.0.1/reads", "unsupported database 'mysql'"),
    ]
    for url, message in cases:
        with pytest.raises(StoreError, match=f"^cannot open reads database .*{message}") as error:
            open_store(url)
        assert "\n" not in str(error.value)


CHILD = """
import os, signal, sys, uuid
from datetime import datetime, timedelta, timezone
from lpr.geometry import Box
from lpr.records import HotlistMatch, VehicleRead
from lpr.store import open_store

store = open_store(sys.argv[1])
count = int(sys.argv[2])
start = datetime(2024, 5, 1, 14, 30, tzinfo=timezone.utc)
match = HotlistMatch("KLM1001", "stolen", "", "exact", 0, "KLM1001")
for i in range(count):
    at = start + timedelta(seconds=3 * i)
    read = VehicleRead(uuid.uuid4().hex, f"KLM{1000 + i}", 0.9, (), "gate-north", "rtsp://10.0.0.21:554/stream1", at, at + timedelta(seconds=1),
                       None, 9, Box(600, 380, 140, 70), None, None, match if i % 2 else None)
    store.add_read(read, alerts_to=["http://10.0.0.5:8080/alerts"])
    print(read.id, flush=True)
    if i == count - 1:
        os.kill(os.getpid(), signal.SIGKILL)
"""


def test_reads_committed_before_a_kill_survive_it(url):
    done = subprocess.run([sys.executable, "-c", CHILD, url, "25"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == -9, done.stderr
    added = done.stdout.split()
    assert len(added) == 25
    with open_store(url) as store:
        assert sorted(r.id for r in store.reads()) == sorted(added)
        assert len(store.due_alerts(soon())) == 12
        if store.engine.dialect.name == "sqlite":
            # What makes a commit survive power loss too, which a test cannot cut.
            with store.engine.connect() as connection:
                assert [connection.exec_driver_sql(f"PRAGMA {name}").scalar() for name in ("journal_mode", "synchronous", "busy_timeout")] == ["wal", 2, 10000]


def test_a_version_1_database_is_migrated_and_keeps_its_reads(url):
    old = vehicle_read("OLD1234")
    with open_store(url) as store:
        store.add_read(old)
        # Make it the database version 1 wrote: no stored_at, no camera_status.
        with store.engine.begin() as connection:
            connection.execute(text("DROP TABLE camera_status"))
            connection.execute(text("DROP INDEX reads_stored_at"))
            connection.execute(text("ALTER TABLE reads DROP COLUMN stored_at"))
            connection.execute(schema_version.delete().where(schema_version.c.version == 2))
    with open_store(url) as store:
        with store.engine.connect() as connection:
            assert connection.execute(select(schema_version.c.version).order_by(schema_version.c.version)).scalars().all() == [1, 2]
        assert store.reads() == [old]
        # The old read was stored before stored_at existed: no live feed replays it; a new one is followed.
        new = vehicle_read("NEW5678", at=T0 + timedelta(minutes=1))
        store.add_read(new)
        assert [read for _, read in store.stored_since(T0 - timedelta(days=3650))] == [new]
        store.put_camera_status(camera_status("gate-north"))
        assert [s.camera for s in store.camera_statuses()] == ["gate-north"]


def test_pages_of_reads_neither_skip_nor_repeat(store):
    # Three reads share one first_seen: the id orders them.
    made = [vehicle_read(f"PAGE{i:03d}", at=T0 + timedelta(seconds=i // 3)) for i in range(10)]
    for read in made:
        store.add_read(read)
    newest_first = store.reads()
    pages, before = [], None
    while True:
        page = store.reads(limit=4, before=before)
        if not page:
            break
        pages.append(page)
        before = (page[-1].first_seen, page[-1].id)
    assert [len(page) for page in pages] == [4, 4, 2]
    assert [read for page in pages for read in page] == newest_first
    assert {read.id for read in newest_first} == {read.id for read in made}


def test_a_read_is_found_by_its_id_and_followed_by_when_it_was_stored(store):
    first, second = vehicle_read("ABC1234", at=T0), vehicle_read("XYZ9876", at=T0 - timedelta(hours=2))
    start = datetime.now(timezone.utc)
    store.add_read(first)
    store.add_read(second)
    assert store.read(second.id) == second and store.read("no-such-id") is None
    # Stored order, not first_seen order: the second was seen earlier but stored later.
    stored = store.stored_since(start)
    assert [read for _, read in stored] == [first, second]
    assert stored[0][0] <= stored[1][0] and stored[0][0] >= start
    assert store.stored_since(stored[1][0] + timedelta(seconds=1)) == []


def test_hotlist_entries_are_added_listed_and_deleted_one_by_one(store):
    store.replace_hotlist("stolen.csv", [HotlistEntry("ABC1234", "stolen", "grey Honda Civic")])
    assert store.add_hotlist_entry(HotlistEntry("xyz-9876", "amber", "case 2291"), source="api")
    # The same plate on the same list again changes nothing.
    assert not store.add_hotlist_entry(HotlistEntry("XYZ9876", "amber", "other note"), source="api")
    assert store.add_hotlist_entry(HotlistEntry("XYZ9876", "stolen", ""), source="api")
    assert store.hotlist_sources() == [
        (HotlistEntry("XYZ9876", "amber", "case 2291"), "api"),
        (HotlistEntry("ABC1234", "stolen", "grey Honda Civic"), "stolen.csv"),
        (HotlistEntry("XYZ9876", "stolen", ""), "api"),
    ]
    with pytest.raises(ValueError, match="needs letters or digits"):
        store.add_hotlist_entry(HotlistEntry("--", "amber", ""), source="api")
    assert store.delete_hotlist_entry("xyz9876", "stolen") == 1
    assert store.delete_hotlist_entry("XYZ9876", "stolen") == 0
    assert store.delete_hotlist_entry("ABC1234") == 1
    assert store.hotlist_entries() == [HotlistEntry("XYZ9876", "amber", "case 2291")]


def camera_status(camera: str, **changes) -> CameraStatus:
    status = CameraStatus(camera, "rtsp://10.0.0.21:554/stream1", True, 9.8, 1200, 3, 1, None, T0, T0 + timedelta(seconds=1))
    return replace(status, **changes)


def test_a_camera_status_replaces_the_previous_one(store):
    store.put_camera_status(camera_status("gate-south"))
    store.put_camera_status(camera_status("gate-north"))
    later = camera_status("gate-north", connected=False, fps=0.0, last_error="rtsp://10.0.0.21:554/stream1: no frame for 10 s", updated_at=T0 + timedelta(seconds=6))
    store.put_camera_status(later)
    assert store.camera_statuses() == [later, camera_status("gate-south")]
    assert CameraStatus.from_dict(later.to_dict()) == later
