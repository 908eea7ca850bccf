"""A throwaway PostgreSQL server for the store tests: initdb into a temporary folder, pg_ctl start on a free 127.0.0.1 port.

Needs Debian's server binaries (apt-get install postgresql); as root the server runs as the
postgres user, which PostgreSQL insists on. The `postgres` fixture skips when they are absent.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

USER = "lpr"


def server_binaries() -> Path | None:
    """The newest /usr/lib/postgresql/*/bin holding initdb and pg_ctl, or None."""
    found = [b for b in Path("/usr/lib/postgresql").glob("*/bin") if (b / "initdb").is_file() and (b / "pg_ctl").is_file()]
    return max(found, key=lambda b: int(b.parent.name) if b.parent.name.isdigit() else 0, default=None)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PostgresServer:
    """A PostgreSQL server in its own folder, trusting local connections from USER; stop() removes it."""

    def __init__(self, binaries: Path) -> None:
        self.binaries = binaries
        # Not under pytest's tmp_path: its parents are root's and closed to the postgres user.
        self.folder = Path(tempfile.mkdtemp(prefix="lpr-postgres-"))
        self.port = free_port()
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                shutil.rmtree(self.folder)
                pytest.skip("running as root, and there is no postgres user to run the PostgreSQL server as")
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
            self._as_user = ["runuser", "-u", "postgres", "--"]
        data = self.folder / "data"
        self._run("initdb", "-D", str(data), "-U", USER, "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C")
        # fsync=off: the tests kill clients, never the server, so the server's own fsyncs only cost time.
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(data), "-l", str(self.folder / "server.log"), "-o", options, "-w", "-t", "60", "start")
        self.url = f"postgresql://{USER}@127.0.0.1:{self.port}/postgres"

    def _run(self, program: str, *args: str) -> None:
        """Run a server program as the server's user; RuntimeError with its output when it fails."""
        done = subprocess.run([*self._as_user, str(self.binaries / program), *args], capture_output=True, text=True, cwd=self.folder)
        if done.returncode != 0:
            log = self.folder / "server.log"
            raise RuntimeError(f"{program} failed: {done.stdout}{done.stderr}{log.read_text() if log.is_file() else ''}")

    def new_database(self) -> str:
        """The URL of a new, empty database on this server."""
        import psycopg

        name = f"test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user={USER} dbname=postgres", autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {name}")
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        """Stop the server and remove its folder."""
        try:
            self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the session; skips when the server binaries are not installed."""
    binaries = server_binaries()
    if binaries is None:
        pytest.skip("PostgreSQL server not installed (no /usr/lib/postgresql/*/bin/initdb and pg_ctl; apt-get install postgresql)")
    server = PostgresServer(binaries)
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    """A new, empty reads database: a SQLite file in a folder open_store must create, or a database on the session's PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'lpr' / 'reads.db'}"
    return request.getfixturevalue("postgres").new_database()
