"""The reads database: vehicle reads, imported hotlists and the alert outbox, on SQLite or PostgreSQL (SQLAlchemy Core).

A read and the alerts it raises are committed in one transaction before add_read returns,
so a read is on disk before anyone is told of it and an alert is never lost to a crash:
a deliverer takes due alerts from the outbox, sends them, and marks them delivered or
failed (retried with exponential backoff). Delivery is at least once; an alert's payload
carries its id so a receiver can drop a repeat.

SQLite takes one writer: one `lpr watch` process writes a SQLite file (WAL lets
`lpr reads` and an occasional `lpr hotlist import` run beside it). PostgreSQL takes many
writers; read and alert ids are UUID4s, so processes never clash.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    TypeDecorator,
    create_engine,
    event,
    func,
    inspect,
    or_,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from .errors import LprError
from .geometry import Box
from .hotlist import HotlistEntry, is_near_plate, normalize_plate
from .records import CameraStatus, HotlistMatch, TextCandidate, VehicleRead


class StoreError(LprError):
    """The reads database cannot be opened or used: bad URL, unreachable server, unwritable file, newer schema."""


class _UtcTime(TypeDecorator):
    """Aware datetimes kept in UTC: timestamptz on PostgreSQL; on SQLite fixed-width text with microseconds, which compares as time."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"a stored time must be timezone-aware, got {value.isoformat()}")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


metadata = MetaData()

schema_version = Table("schema_version", metadata, Column("version", Integer, primary_key=True), Column("applied_at", _UtcTime, nullable=False))

reads = Table(
    "reads",
    metadata,
    Column("id", Text, primary_key=True),
    Column("plate", Text, nullable=False),
    Column("confidence", Float, nullable=False),
    Column("camera", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("first_seen", _UtcTime, nullable=False),
    Column("last_seen", _UtcTime, nullable=False),
    Column("offset_start_s", Float),
    Column("offset_end_s", Float),
    Column("frames_seen", Integer, nullable=False),
    Column("box", JSON, nullable=False),
    Column("crop_path", Text),
    Column("frame_path", Text),
    Column("candidates", JSON, nullable=False),
    Column("match", JSON),
    # The matched entry's list, a column of its own so --hotlist-only needs no JSON query.
    Column("hotlist", Text),
    # When the read was committed (schema version 2; null for older reads): live feeds follow it, since
    # a read's first_seen can be well before it is stored.
    Column("stored_at", _UtcTime),
    Index("reads_plate", "plate"),
    Index("reads_camera", "camera"),
    Index("reads_first_seen", "first_seen"),
    Index("reads_stored_at", "stored_at"),
)

hotlist_entries = Table(
    "hotlist_entries",
    metadata,
    # What was imported (the file's name): importing it again replaces exactly these rows.
    Column("source", Text, nullable=False),
    Column("plate", Text, nullable=False),
    Column("list", Text, nullable=False),
    Column("note", Text, nullable=False),
    Column("imported_at", _UtcTime, nullable=False),
    Index("hotlist_entries_source", "source"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Text, primary_key=True),
    Column("read_id", Text, ForeignKey("reads.id"), nullable=False),
    # Where the alert goes: "http://...", "mqtt://...", "command:...".
    Column("destination", Text, nullable=False),
    Column("payload", JSON, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", _UtcTime, nullable=False),
    Column("last_error", Text),
    Column("delivered_at", _UtcTime),
    Index("outbox_read", "read_id"),
    Index("outbox_due", "delivered_at", "next_attempt_at"),
)


camera_status = Table(
    "camera_status",
    metadata,
    # One row per camera, replaced by its watcher every few seconds (schema version 2).
    Column("camera", Text, primary_key=True),
    Column("status", JSON, nullable=False),
    Column("updated_at", _UtcTime, nullable=False),
)


def _initial_schema(connection: Connection) -> None:
    """Version 1: the tables of `metadata` (a new database gets the latest tables; later migrations add only what is missing)."""
    metadata.create_all(connection)


def _stored_at_and_camera_status(connection: Connection) -> None:
    """Version 2: reads.stored_at (when a read was committed, which live feeds follow) and the camera_status table."""
    columns = {column["name"] for column in inspect(connection).get_columns("reads")}
    if "stored_at" not in columns:
        kind = "TIMESTAMP WITH TIME ZONE" if connection.dialect.name == "postgresql" else "DATETIME"
        connection.execute(text(f"ALTER TABLE reads ADD COLUMN stored_at {kind}"))
        connection.execute(text("CREATE INDEX reads_stored_at ON reads (stored_at)"))
    camera_status.create(connection, checkfirst=True)


# Migration i takes a database from version i to i + 1; append new ones, never edit old ones.
# Each checks what is there, since a new database starts from the latest tables.
MIGRATIONS = (_initial_schema, _stored_at_and_camera_status)
SCHEMA_VERSION = len(MIGRATIONS)
# Serializes PostgreSQL processes migrating one database at the same moment ("lpr" in ASCII).
_MIGRATION_LOCK = 0x6C7072


@dataclass(frozen=True)
class RetryConfig:
    """How long a failed alert waits before its next attempt: first_delay_s, multiplied by factor per failure, at most max_delay_s."""

    # Most failures are a receiver restarting or a network blip: try again soon.
    first_delay_s: float = 1.0
    # Doubling spares a receiver that is down from a flood of retries.
    factor: float = 2.0
    # A receiver back after hours down still gets its alerts within five minutes.
    max_delay_s: float = 300.0

    def delay_s(self, failures: int) -> float:
        """The number of failures so far (at least 1) in, seconds until the next attempt out."""
        return min(self.first_delay_s * self.factor ** (failures - 1), self.max_delay_s)


@dataclass(frozen=True)
class OutboxAlert:
    """An alert waiting in the outbox: where it goes, what it says, and how its deliveries went."""

    id: str
    read_id: str
    destination: str
    # {"alert_id": id, "read": the VehicleRead's JSON object}.
    payload: dict[str, Any]
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    delivered_at: datetime | None


def _one_line(error: BaseException) -> str:
    """A database error in, its driver's message as one line out (without SQLAlchemy's SQL and links)."""
    message = str(getattr(error, "orig", None) or error).strip()
    return " ".join(message.splitlines()[0].split()) if message else type(error).__name__


def _aware(value: datetime, name: str) -> datetime:
    """A datetime in, the same out; ValueError when it is naive (it would be taken as UTC and shift silently)."""
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")
    return value


def _sqlite_engine(url: Any) -> Engine:
    """A sqlite:///PATH URL in, an engine with durable, one-writer-at-a-time transactions out; ValueError when the folder cannot be made."""
    if not url.database or url.database == ":memory:":
        raise ValueError("a SQLite reads database needs a file path: sqlite:///PATH")
    try:
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ValueError(f"cannot create folder {Path(url.database).parent} ({error.strerror or error})") from None
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's BEGIN below, not the sqlite3 module, open transactions: sqlite3 would run DDL outside them.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # WAL: readers never block the writer. FULL: a commit is fsynced, so it survives kill -9 and power loss.
        # busy_timeout: a second process waits for the writer's short transaction instead of failing.
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "busy_timeout=10000", "foreign_keys=ON"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        # IMMEDIATE takes the write lock up front: a deferred transaction that reads then writes can fail with SQLITE_BUSY beside another writer.
        connection.exec_driver_sql("BEGIN IMMEDIATE" if connection.get_execution_options().get("lpr_write") else "BEGIN")

    return engine


def open_store(url: str, retry: RetryConfig = RetryConfig()) -> Store:
    """A database URL (sqlite:///PATH or postgresql://USER@HOST/DB) in, the opened and migrated Store out; StoreError with one line otherwise."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(f"cannot open reads database {url}: not a database URL (use sqlite:///PATH or postgresql://USER@HOST/DB)") from None
    shown = parsed.render_as_string(hide_password=True)
    engine: Engine | None = None
    try:
        if parsed.drivername in ("sqlite", "sqlite+pysqlite"):
            engine = _sqlite_engine(parsed)
        elif parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg"):
            # Without a timeout an unreachable host hangs the caller for minutes; pre-ping replaces a
            # connection the server or a firewall dropped while a watcher sat idle.
            engine = create_engine(parsed.set(drivername="postgresql+psycopg"), connect_args={"connect_timeout": 10}, pool_pre_ping=True)
        else:
            raise ValueError(f"unsupported database {parsed.drivername!r} (use sqlite:///PATH or postgresql://USER@HOST/DB)")
        store = Store(engine, shown, retry)
        store._migrate()
        return store
    except (ValueError, SQLAlchemyError, StoreError) as error:
        if engine is not None:
            engine.dispose()
        if isinstance(error, StoreError):
            raise
        raise StoreError(f"cannot open reads database {shown}: {_one_line(error)}") from None


def _read_row(read: VehicleRead) -> dict[str, Any]:
    """A VehicleRead in, its reads-table row out."""
    start, end = read.source_offset_s if read.source_offset_s is not None else (None, None)
    return {
        "id": read.id,
        "plate": read.plate,
        "confidence": read.confidence,
        "camera": read.camera,
        "source": read.source,
        "first_seen": read.first_seen,
        "last_seen": read.last_seen,
        "offset_start_s": start,
        "offset_end_s": end,
        "frames_seen": read.frames_seen,
        "box": read.box.to_list(),
        "crop_path": read.crop_path,
        "frame_path": read.frame_path,
        # Unrounded (to_dict rounds to 6 decimals) so a read comes back exactly as it went in.
        "candidates": [{"plate": c.plate, "confidence": c.confidence} for c in read.candidates],
        "match": None if read.match is None else read.match.to_dict(),
        "hotlist": None if read.match is None else read.match.list,
        "stored_at": datetime.now(timezone.utc),
    }


def _row_read(row: Any) -> VehicleRead:
    """A reads-table row in, its VehicleRead out."""
    return VehicleRead(
        id=row.id,
        plate=row.plate,
        confidence=row.confidence,
        candidates=tuple(TextCandidate.from_dict(c) for c in row.candidates),
        camera=row.camera,
        source=row.source,
        first_seen=row.first_seen,
        last_seen=row.last_seen,
        source_offset_s=None if row.offset_start_s is None else (row.offset_start_s, row.offset_end_s),
        frames_seen=row.frames_seen,
        box=Box(*row.box),
        crop_path=row.crop_path,
        frame_path=row.frame_path,
        match=None if row.match is None else HotlistMatch.from_dict(row.match),
    )


class Store:
    """An open reads database; make one with open_store, close it (or use it as a context manager) when done."""

    def __init__(self, engine: Engine, url: str, retry: RetryConfig) -> None:
        self.engine = engine
        # The URL without its password, for messages.
        self.url = url
        self.retry = retry
        # The same pool, marking transactions that write: on SQLite they take the write lock at BEGIN.
        self._writer = engine.execution_options(lpr_write=True)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every connection to the database."""
        self.engine.dispose()

    def ping(self) -> None:
        """Nothing in; returns when the database answers, StoreError with one line when it does not."""
        with self._transaction() as connection:
            connection.execute(select(1))

    @contextmanager
    def _transaction(self, write: bool = False) -> Iterator[Connection]:
        """One transaction, committed when the block ends; a database error becomes a one-line StoreError."""
        try:
            with (self._writer if write else self.engine).begin() as connection:
                yield connection
        except SQLAlchemyError as error:
            raise StoreError(f"reads database {self.url}: {_one_line(error)}") from None

    def _migrate(self) -> None:
        """Bring the schema up to SCHEMA_VERSION in one transaction; StoreError when the database is newer than this lpr."""
        # Database errors reach open_store, which names them as failures to open.
        with self._writer.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
            schema_version.create(connection, checkfirst=True)
            version = connection.execute(select(func.max(schema_version.c.version))).scalar() or 0
            if version > SCHEMA_VERSION:
                raise StoreError(f"reads database {self.url} has schema version {version}, newer than this lpr's {SCHEMA_VERSION}: upgrade lpr")
            for number in range(version + 1, SCHEMA_VERSION + 1):
                MIGRATIONS[number - 1](connection)
                connection.execute(schema_version.insert().values(version=number, applied_at=datetime.now(timezone.utc)))

    def add_read(self, read: VehicleRead, alerts_to: Sequence[str] = ()) -> bool:
        """A read and the alert destinations in, True once it is committed (with one outbox alert per destination when it matched) out.

        Adding a read whose id is already stored does nothing and returns False, so a caller
        retrying after a lost connection cannot store a read, or alert on it, twice.
        """
        dialect = sqlite if self.engine.dialect.name == "sqlite" else postgresql
        with self._transaction(write=True) as connection:
            # RETURNING says whether the row went in: drivers do not all report an INSERT's rowcount.
            insert = dialect.insert(reads).values(_read_row(read)).on_conflict_do_nothing(index_elements=["id"]).returning(reads.c.id)
            added = connection.execute(insert).first() is not None
            if added and read.match is not None and alerts_to:
                now = datetime.now(timezone.utc)
                alerts = [uuid.uuid4().hex for _ in alerts_to]
                rows = [
                    {"id": alert, "read_id": read.id, "destination": destination, "payload": {"alert_id": alert, "read": read.to_dict()}, "attempts": 0, "next_attempt_at": now}
                    for alert, destination in zip(alerts, alerts_to)
                ]
                connection.execute(outbox.insert(), rows)
        return added

    def reads(
        self,
        plate: str | None = None,
        near: bool = False,
        camera: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        hotlist_only: bool = False,
        limit: int | None = None,
        before: tuple[datetime, str] | None = None,
    ) -> list[VehicleRead]:
        """Filters in (plate, or with near=True plates within one edit or OCR look-alikes of it; first_seen in [since, until)), matching reads newest first out.

        before: (first_seen, id) of the last read of a previous page; only reads after it in
        this order come, so pages neither skip nor repeat reads while new ones arrive.
        """
        if near and not plate:
            raise ValueError("a near search needs a plate")
        if limit is not None and limit < 0:
            raise ValueError(f"limit must be at least 0, got {limit}")
        query = select(reads).order_by(reads.c.first_seen.desc(), reads.c.id.desc())
        plate = normalize_plate(plate) if plate else None
        if plate and near:
            # Near plates are within one character of plate's length; the rest is decided in Python below.
            # Cost: every read of those lengths that passes the other filters is fetched and checked,
            # so a near search over a whole large database is a scan; --camera and --since bound it.
            query = query.where(func.length(reads.c.plate).between(len(plate) - 1, len(plate) + 1)).execution_options(yield_per=1000)
        elif plate:
            query = query.where(reads.c.plate == plate)
        if camera is not None:
            query = query.where(reads.c.camera == camera)
        if since is not None:
            query = query.where(reads.c.first_seen >= _aware(since, "since"))
        if until is not None:
            query = query.where(reads.c.first_seen < _aware(until, "until"))
        if hotlist_only:
            query = query.where(reads.c.hotlist.is_not(None))
        if before is not None:
            seen, read_id = _aware(before[0], "before"), before[1]
            query = query.where(or_(reads.c.first_seen < seen, (reads.c.first_seen == seen) & (reads.c.id < read_id)))
        if limit is not None and not near:
            query = query.limit(limit)
        found: list[VehicleRead] = []
        with self._transaction() as connection:
            for row in connection.execute(query):
                if limit is not None and len(found) >= limit:
                    break
                if not near or is_near_plate(plate, row.plate):
                    found.append(_row_read(row))
        return found

    def read(self, read_id: str) -> VehicleRead | None:
        """A read's id in, the stored read out, or None when there is none."""
        with self._transaction() as connection:
            row = connection.execute(select(reads).where(reads.c.id == read_id)).first()
        return None if row is None else _row_read(row)

    def stored_since(self, since: datetime, limit: int = 1000) -> list[tuple[datetime, VehicleRead]]:
        """A time in, (stored_at, read) of the reads committed at or after it, oldest first, at most limit, out."""
        query = select(reads).where(reads.c.stored_at >= _aware(since, "since")).order_by(reads.c.stored_at, reads.c.id).limit(limit)
        with self._transaction() as connection:
            return [(row.stored_at, _row_read(row)) for row in connection.execute(query)]

    def prune(self, keep_days: float, now: datetime) -> list[tuple[str | None, str | None]]:
        """Days to keep and the time now in, the (crop_path, frame_path) of every read deleted (first seen before now - keep_days) out, for the caller to delete."""
        if keep_days < 0:
            raise ValueError(f"keep_days must be at least 0, got {keep_days}")
        old = reads.c.first_seen < _aware(now, "now") - timedelta(days=keep_days)
        with self._transaction(write=True) as connection:
            media = [(row.crop_path, row.frame_path) for row in connection.execute(select(reads.c.crop_path, reads.c.frame_path).where(old))]
            connection.execute(outbox.delete().where(outbox.c.read_id.in_(select(reads.c.id).where(old))))
            connection.execute(reads.delete().where(old))
        return media

    def due_alerts(self, now: datetime, limit: int = 100) -> list[OutboxAlert]:
        """The time now and a most in, undelivered alerts whose next attempt is due, earliest first, out."""
        query = (
            select(outbox)
            .where(outbox.c.delivered_at.is_(None), outbox.c.next_attempt_at <= _aware(now, "now"))
            .order_by(outbox.c.next_attempt_at, outbox.c.id)
            .limit(limit)
        )
        with self._transaction() as connection:
            return [OutboxAlert(**row._asdict()) for row in connection.execute(query)]

    def mark_delivered(self, alert_id: str, now: datetime) -> None:
        """An alert's id and the time now in; the alert is never due again. StoreError for an unknown id."""
        with self._transaction(write=True) as connection:
            if connection.execute(outbox.update().where(outbox.c.id == alert_id).values(delivered_at=_aware(now, "now"))).rowcount != 1:
                raise StoreError(f"reads database {self.url}: no alert {alert_id}")

    def mark_failed(self, alert_id: str, error: str, now: datetime) -> datetime:
        """An alert's id, why its delivery failed and the time now in, when it is next due (backoff per RetryConfig) out. StoreError for an unknown id."""
        with self._transaction(write=True) as connection:
            attempts = connection.execute(select(outbox.c.attempts).where(outbox.c.id == alert_id).with_for_update()).scalar()
            if attempts is None:
                raise StoreError(f"reads database {self.url}: no alert {alert_id}")
            due = _aware(now, "now") + timedelta(seconds=self.retry.delay_s(attempts + 1))
            connection.execute(outbox.update().where(outbox.c.id == alert_id).values(attempts=attempts + 1, last_error=error, next_attempt_at=due))
        return due

    def replace_hotlist(self, source: str, entries: Iterable[HotlistEntry]) -> int:
        """What was imported (a file's name) and its entries in, the number stored out; the entries of an earlier import of source go, in the same transaction."""
        now = datetime.now(timezone.utc)
        rows = [{"source": source, "plate": e.plate, "list": e.list, "note": e.note, "imported_at": now} for e in entries]
        with self._transaction(write=True) as connection:
            connection.execute(hotlist_entries.delete().where(hotlist_entries.c.source == source))
            if rows:
                connection.execute(hotlist_entries.insert(), rows)
        return len(rows)

    def add_hotlist_entry(self, entry: HotlistEntry, source: str) -> bool:
        """An entry and what added it (e.g. "api") in, True once stored out; False when the same plate is already on that list (nothing changes)."""
        plate = normalize_plate(entry.plate)
        if not plate:
            raise ValueError(f"a hotlist plate needs letters or digits, got {entry.plate!r}")
        with self._transaction(write=True) as connection:
            same = select(hotlist_entries.c.plate).where(hotlist_entries.c.plate == plate, hotlist_entries.c.list == entry.list)
            if connection.execute(same).first() is not None:
                return False
            row = {"source": source, "plate": plate, "list": entry.list, "note": entry.note, "imported_at": datetime.now(timezone.utc)}
            connection.execute(hotlist_entries.insert().values(row))
        return True

    def delete_hotlist_entry(self, plate: str, list_name: str | None = None) -> int:
        """A plate and optionally one list in, the number of entries deleted (of every source) out."""
        condition = hotlist_entries.c.plate == normalize_plate(plate)
        if list_name is not None:
            condition = condition & (hotlist_entries.c.list == list_name)
        with self._transaction(write=True) as connection:
            return connection.execute(hotlist_entries.delete().where(condition)).rowcount

    def hotlist_sources(self) -> list[tuple[HotlistEntry, str]]:
        """Every stored hotlist entry with what added it (an imported file's name, or "api"), in (list, plate, note) order."""
        query = select(hotlist_entries.c.plate, hotlist_entries.c.list, hotlist_entries.c.note, hotlist_entries.c.source).order_by(
            hotlist_entries.c.list, hotlist_entries.c.plate, hotlist_entries.c.note
        )
        with self._transaction() as connection:
            return [(HotlistEntry(row.plate, row.list, row.note), row.source) for row in connection.execute(query)]

    def hotlist_entries(self) -> list[HotlistEntry]:
        """Every imported hotlist entry, in (list, plate, note) order."""
        query = select(hotlist_entries.c.plate, hotlist_entries.c.list, hotlist_entries.c.note).order_by(
            hotlist_entries.c.list, hotlist_entries.c.plate, hotlist_entries.c.note
        )
        with self._transaction() as connection:
            return [HotlistEntry(row.plate, row.list, row.note) for row in connection.execute(query)]

    def put_camera_status(self, status: CameraStatus) -> None:
        """A camera's status in; it replaces the camera's previous one."""
        dialect = sqlite if self.engine.dialect.name == "sqlite" else postgresql
        row = {"camera": status.camera, "status": status.to_dict(), "updated_at": status.updated_at}
        upsert = dialect.insert(camera_status).values(row)
        upsert = upsert.on_conflict_do_update(index_elements=["camera"], set_={"status": upsert.excluded.status, "updated_at": upsert.excluded.updated_at})
        with self._transaction(write=True) as connection:
            connection.execute(upsert)

    def camera_statuses(self) -> list[CameraStatus]:
        """Every camera's latest status, by camera name."""
        with self._transaction() as connection:
            return [CameraStatus.from_dict(row.status) for row in connection.execute(select(camera_status).order_by(camera_status.c.camera))]
