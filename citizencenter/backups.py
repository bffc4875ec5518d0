"""Backups and restores of the configured database.

SQLite: the SQLite online backup API, which copies one consistent snapshot while the
application goes on writing (WAL readers do not block writers), and copies back through
the same API so connections that stay open see the restored pages, never a torn file.
PostgreSQL: `pg_dump --format=custom` and `pg_restore`; the password goes to them in the
PGPASSWORD environment variable, never on a command line where `ps` would show it.
"""

import contextlib
import fcntl
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Collection
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

# Every SQLite connection to a WAL database holds a shared lock on this byte of the
# -shm file (os_unix.c: UNIX_SHM_DMS) for as long as it is open.
_SHM_DMS_BYTE = 128


class BackupError(Exception):
    """A backup or restore that cannot be done; the message is one line for the operator."""


def default_name(database_url: str, now: datetime | None = None) -> str:
    """A file name for a backup taken now: citizencenter-20261202T101500Z.sqlite3 or .dump."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"citizencenter-{stamp}.{'sqlite3' if _is_sqlite(database_url) else 'dump'}"


def backup(database_url: str, out: Path) -> str:
    """Write a backup of the database to `out` (mode 0600); say what was written."""
    out = Path(out)
    if not out.parent.is_dir():
        raise BackupError(f"no directory {out.parent} for the backup")
    partial = out.with_name(f".{out.name}.partial")
    try:
        if _is_sqlite(database_url):
            _sqlite_backup(_sqlite_path(database_url), partial)
        else:
            _pg_dump(database_url, partial)
        os.replace(partial, out)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return f"wrote {out} ({out.stat().st_size} bytes)"


def restore(database_url: str, source: Path, *, force: bool = False,
            known_revisions: Collection[str] | None = None) -> str:
    """Replace the database's content by the backup in `source`; say what was restored.

    A backup whose schema revision is not in `known_revisions` was written by a newer
    release: restoring it under this one would run code against tables it does not know,
    so it is refused before anything changes."""
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"no backup file {source}")
    sqlite = _is_sqlite(database_url)
    if known_revisions is not None:
        revision = _sqlite_revision(source) if sqlite else _pg_revision(database_url, source)
        if revision not in known_revisions:
            raise BackupError(f"{source} holds schema revision {revision}, which this release "
                              "does not know (a newer release wrote it); restore it with that "
                              "release")
    if sqlite:
        return _sqlite_restore(_sqlite_path(database_url), source, force)
    return _pg_restore(database_url, source)


def _is_sqlite(database_url: str) -> bool:
    return database_url.startswith("sqlite")


def _sqlite_path(database_url: str) -> Path:
    path = make_url(database_url).database
    if not path or path == ":memory:":
        raise BackupError("the database is in memory; there is nothing to back up")
    return Path(path)


def _private_file(path: Path) -> None:
    # A backup holds personal data: owner-only from its first byte.
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _open_sqlite(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    connection.execute("PRAGMA busy_timeout=30000")
    return connection


def _check_sqlite_file(path: Path) -> None:
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            result = conn.execute("PRAGMA integrity_check").fetchone()[0]
            tables = {row[0] for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a readable SQLite database ({exc})") from None
    if result != "ok":
        raise BackupError(f"{path} fails SQLite's integrity check: {result}")
    if "alembic_version" not in tables:
        raise BackupError(f"{path} is not a citizencenter database (no alembic_version table)")


def _sqlite_revision(path: Path) -> str:
    _check_sqlite_file(path)
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    if row is None:
        raise BackupError(f"{path} has no schema revision in alembic_version")
    return row[0]


def _sqlite_backup(path: Path, out: Path) -> None:
    if not path.is_file():
        raise BackupError(f"no database at {path}")
    _private_file(out)
    with contextlib.closing(_open_sqlite(path)) as source, \
            contextlib.closing(sqlite3.connect(out)) as target:
        source.backup(target)  # all pages in one step: one snapshot
        # One self-contained file, not a WAL database that needs its -wal beside it.
        target.execute("PRAGMA journal_mode=DELETE")
    _check_sqlite_file(out)


def sqlite_in_use(path: Path) -> bool:
    """Whether another process has the SQLite database open."""
    shm = Path(f"{path}-shm")
    try:
        handle = open(shm, "r+b")  # noqa: SIM115 - closed below, after the probe
    except FileNotFoundError:
        return False
    with handle:
        try:
            fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, _SHM_DMS_BYTE)
        except OSError:
            return True
        fcntl.lockf(handle, fcntl.LOCK_UN, 1, _SHM_DMS_BYTE)
    return False


def _sqlite_restore(path: Path, source: Path, force: bool) -> str:
    if path.resolve() == source.resolve():
        raise BackupError("the backup file is the database itself")
    _check_sqlite_file(source)
    if sqlite_in_use(path) and not force:
        raise BackupError(f"{path} is in use; stop the web, worker and beat processes "
                          "first (or give --force to restore under them)")
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        _private_file(path)
    with contextlib.closing(sqlite3.connect(source)) as backup_file, \
            contextlib.closing(_open_sqlite(path)) as target:
        try:
            backup_file.backup(target)
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"could not restore into {path}: {exc}") from None
    return f"restored {path} from {source}"


def _pg_binary(name: str) -> str:
    binary = shutil.which(name)
    if binary is None:
        raise BackupError(f"{name} is not installed; install the PostgreSQL client programs "
                          "(postgresql-client) of the server's major version")
    return binary


def _pg_environment(database_url: str) -> tuple[dict, str]:
    """The libpq environment for the URL, and the database name."""
    url = make_url(database_url)
    env = dict(os.environ)
    for variable, value in (("PGHOST", url.host), ("PGPORT", url.port),
                            ("PGUSER", url.username), ("PGPASSWORD", url.password)):
        if value is not None:
            env[variable] = str(value)
    for key, variable in (("sslmode", "PGSSLMODE"), ("host", "PGHOST")):
        if key in url.query:
            env[variable] = str(url.query[key])
    if not url.database:
        raise BackupError("DATABASE_URL names no database")
    return env, url.database


def _run(args: list[str], env: dict, what: str) -> str:
    result = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines()
        raise BackupError(f"{what} failed: {lines[-1] if lines else f'exit {result.returncode}'}")
    return result.stdout


def _pg_dump(database_url: str, out: Path) -> None:
    env, name = _pg_environment(database_url)
    _private_file(out)
    _run([_pg_binary("pg_dump"), "--format=custom", "--no-password", f"--file={out}",
          "--", name], env, "pg_dump")
    _pg_list(out, env, f"the dump of {name}")


def _pg_list(dump: Path, env: dict, label: str | None = None) -> int:
    """Read the dump's table of contents: the check that pg_restore can read it."""
    listing = _run([_pg_binary("pg_restore"), "--list", "--", str(dump)], env,
                   f"reading {dump} with pg_restore")
    entries = [line for line in listing.splitlines() if line and not line.startswith(";")]
    if not any(" TABLE DATA " in line and " alembic_version " in line for line in entries):
        raise BackupError(f"{label or dump} is not a citizencenter dump (no alembic_version "
                          "data)")
    return len(entries)


def _pg_revision(database_url: str, dump: Path) -> str:
    """The revision in the dump's alembic_version rows, read without a database."""
    env, _ = _pg_environment(database_url)
    _pg_list(dump, env)
    script = _run([_pg_binary("pg_restore"), "--data-only", "--table=alembic_version",
                   "--file=-", "--", str(dump)], env, f"reading {dump} with pg_restore")
    lines = script.splitlines()
    start = next((n for n, line in enumerate(lines) if line.startswith("COPY ")
                  and "alembic_version" in line), None)
    if start is None or start + 1 >= len(lines) or lines[start + 1] == "\\.":
        raise BackupError(f"{dump} has no schema revision in alembic_version")
    return lines[start + 1].strip()


def _pg_restore(database_url: str, source: Path) -> str:
    env, name = _pg_environment(database_url)
    _pg_list(source, env)
    # One transaction: a restore that fails half-way leaves the database as it was.
    _run([_pg_binary("pg_restore"), "--clean", "--if-exists", "--no-owner",
          "--single-transaction", "--exit-on-error", "--no-password", f"--dbname={name}",
          "--", str(source)], env, "pg_restore")
    return f"restored database {name} from {source}"
