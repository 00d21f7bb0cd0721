"""Backups that restore: `backup` writes one dated archive holding a consistent
PostgreSQL dump and the private media folder, with a manifest; `restore` puts
an archive back into an empty database and media folder, checks it against
its manifest, then erases again everyone the erasure log names (people erased
after the backup was taken must not come back).

An archive (`cpd-YYYYmmdd-HHMMSS.tar.gz`, the snapshot's time in UTC) holds:
  database.dump   pg_dump --format=custom, taken from an exported snapshot
  media/...       every file under PRIVATE_MEDIA_ROOT
  manifest.json   created_at (UTC), app version, latest migration per app,
                  rows per table (counted in the dump's own snapshot) and the
                  SHA-256 of the dump and of every media file
It holds personal data: it is written readable by its owner only.

Every refusal or failure is a `BackupError`, one sentence for the operator.
"""

import datetime as dt
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.db import connection, transaction

FORMAT = 1
NAME = re.compile(r"^cpd-(\d{8}-\d{6})(?:-\d+)?\.tar\.gz$")
MANIFEST = "manifest.json"
DUMP = "database.dump"
MEDIA = "media"
CHUNK = 1024 * 1024
# libpq settings a DATABASE_URL may carry in its query string.
LIBPQ_OPTIONS = {
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "connect_timeout",
    "application_name",
    "options",
    "target_session_attrs",
}


class BackupError(Exception):
    """A refusal or failure, in one sentence that says what to do."""


@dataclass
class Restored:
    created_at: str
    tables: int
    rows: int
    files: int
    migrations_applied: int
    erasures: dict[str, int] = field(default_factory=dict)


# --- backup -----------------------------------------------------------------------


def make_backup(folder: Path) -> tuple[Path, dict]:
    """Write an archive into `folder`; returns its path and its manifest."""
    _require_postgres()
    pg_dump = _tool("pg_dump")
    media_root = Path(settings.MEDIA_ROOT)
    if folder.resolve().is_relative_to(media_root.resolve()):
        raise BackupError(
            f"The backup folder {folder} is inside PRIVATE_MEDIA_ROOT "
            f"({media_root}): choose a folder outside it."
        )
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".cpd-backup-", dir=folder))
    except OSError as exc:
        raise BackupError(
            f"Cannot write to the backup folder {folder}: {exc.strerror or exc}."
        ) from None
    try:
        dump = work / DUMP
        manifest = _dump_database(pg_dump, dump)
        manifest["database"] = {"file": DUMP, **_file_digest(dump)}
        created = dt.datetime.fromisoformat(manifest["created_at"])
        partial = work / "archive.tar.gz"
        with tarfile.open(partial, "w:gz", compresslevel=6) as archive:
            archive.add(dump, arcname=DUMP)
            dump.unlink()
            manifest["media"] = _add_media(archive, media_root)
            text = json.dumps(manifest, indent=2, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime, info.mode = len(text), created.timestamp(), 0o600
            archive.addfile(info, io.BytesIO(text))
        partial.chmod(0o600)
        target = _free_name(folder, created)
        partial.rename(target)
        _fsync(folder)
    except OSError as exc:
        raise BackupError(
            f"Cannot write the backup into {folder}: {exc.strerror or exc}."
        ) from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target, manifest


def _dump_database(pg_dump: str, path: Path) -> dict:
    """pg_dump from a snapshot this transaction exports, so the rows counted
    for the manifest are exactly the rows in the dump, whatever is written
    meanwhile."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute(
            "SELECT pg_export_snapshot(), now(), current_setting('server_version')"
        )
        snapshot, now, server_version = cursor.fetchone()
        tables = _row_counts(cursor)
        cursor.execute("SELECT app, name FROM django_migrations")
        latest: dict[str, str] = {}
        for app, name in cursor.fetchall():
            latest[app] = max(latest.get(app, ""), name)
        args, env = _libpq_command(pg_dump)
        result = subprocess.run(  # noqa: S603 - our own arguments, no shell
            [
                *args,
                "--format=custom",
                "--compress=0",  # the archive is compressed as a whole
                f"--snapshot={snapshot}",
                f"--file={path}",
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise BackupError(
                f"pg_dump could not dump the database: {_first_error(result.stderr)}."
            )
    return {
        "format": FORMAT,
        "created_at": now.astimezone(dt.UTC).isoformat(),
        "app_version": _app_version(),
        "postgres": {"server": server_version, "pg_dump": _version(pg_dump)},
        "migrations": dict(sorted(latest.items())),
        "tables": tables,
    }


def _add_media(archive: tarfile.TarFile, media_root: Path) -> dict[str, dict]:
    """Each file once: hashed as it is read into the archive."""
    files: dict[str, dict] = {}
    if not media_root.is_dir():
        return files
    for path in sorted(p for p in media_root.rglob("*") if not p.is_dir()):
        if path.is_symlink() or not path.is_file():
            continue
        name = path.relative_to(media_root).as_posix()
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            continue  # removed since the folder was listed (erased, expired)
        with handle:
            info = archive.gettarinfo(fileobj=handle, arcname=f"{MEDIA}/{name}")
            reader = _Hashing(handle)
            archive.addfile(info, reader)
        files[name] = {"sha256": reader.digest.hexdigest(), "bytes": info.size}
    return files


class _Hashing:
    def __init__(self, handle):
        self.handle = handle
        self.digest = hashlib.sha256()

    def read(self, size=-1):
        data = self.handle.read(size)
        self.digest.update(data)
        return data


def _free_name(folder: Path, created: dt.datetime) -> Path:
    stem = f"cpd-{created.astimezone(dt.UTC):%Y%m%d-%H%M%S}"
    target, n = folder / f"{stem}.tar.gz", 1
    while target.exists():
        n += 1
        target = folder / f"{stem}-{n}.tar.gz"
    return target


def prune_backups(folder: Path, *, keep_days: int, now: dt.datetime) -> list[Path]:
    """Delete this tool's archives in `folder` older than `keep_days` (by the
    time in their name); other files are never touched."""
    removed = []
    for path in sorted(folder.glob("cpd-*.tar.gz")):
        found = NAME.match(path.name)
        if not found:
            continue
        taken = dt.datetime.strptime(found[1], "%Y%m%d-%H%M%S").replace(tzinfo=dt.UTC)
        if now - taken > dt.timedelta(days=keep_days):
            path.unlink()
            removed.append(path)
    return removed


# --- restore ----------------------------------------------------------------------


def restore_backup(archive_path: Path, *, force: bool = False) -> Restored:
    """Restore into an empty database and media folder (`force`: replace what
    they hold), check rows and files against the manifest, migrate a backup
    from an older release, then replay the erasure log."""
    _require_postgres()
    pg_restore = _tool("pg_restore")
    if not archive_path.is_file():
        raise BackupError(f"There is no file {archive_path}.")
    media_root = Path(settings.MEDIA_ROOT)
    tables_with_rows, any_tables = _database_contents()
    if tables_with_rows and not force:
        raise BackupError(
            f"The database {_where()} is not empty ({len(tables_with_rows)} "
            f"tables hold rows, e.g. {tables_with_rows[0]}): restore only into an "
            "empty database, or add --force to replace everything in it."
        )
    media_files = _files_under(media_root)
    if media_files and not force:
        raise BackupError(
            f"PRIVATE_MEDIA_ROOT ({media_root}) already holds {len(media_files)} "
            "files: restore only into an empty folder, or add --force to replace "
            "them."
        )
    with tempfile.TemporaryDirectory(prefix="cpd-restore-") as staging_name:
        staging = Path(staging_name)
        manifest = _unpack_and_check(archive_path, staging)
        _check_release_knows(manifest)
        connection.close()
        _pg_restore(pg_restore, staging / DUMP, clean=any_tables)
        _check_rows(manifest)
        for path in media_files:
            path.unlink()
        _place_media(staging / MEDIA, media_root, manifest["media"])
    applied = _migrate_if_behind()
    from . import services

    erasures = services.replay_logged_erasures(restored_from=archive_path.name)
    _never_reuse_logged_ids()
    return Restored(
        created_at=manifest["created_at"],
        tables=len(manifest["tables"]),
        rows=sum(manifest["tables"].values()),
        files=len(manifest["media"]),
        migrations_applied=applied,
        erasures=erasures,
    )


def _database_contents() -> tuple[list[str], bool]:
    """The tables holding rows, and whether there are tables at all."""
    names = connection.introspection.table_names()
    with connection.cursor() as cursor:
        full = []
        for name in names:
            quoted = connection.ops.quote_name(name)
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {quoted})")  # noqa: S608
            if cursor.fetchone()[0]:
                full.append(name)
    return full, bool(names)


def _unpack_and_check(archive_path: Path, staging: Path) -> dict:
    """Unpack into `staging`, hashing as it goes, and refuse (before anything
    is touched) an archive that does not match its manifest."""
    seen: dict[str, str] = {}
    manifest = None
    try:
        with tarfile.open(archive_path, "r:gz") as archive:
            for member in archive:
                if member.isdir():
                    continue
                name = _safe_name(member)
                source = archive.extractfile(member)
                if name == MANIFEST:
                    manifest = json.load(source)
                    continue
                target = staging / name
                target.parent.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha256()
                with target.open("wb") as out:
                    while chunk := source.read(CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                seen[name] = digest.hexdigest()
    except FileNotFoundError:
        raise BackupError(f"There is no file {archive_path}.") from None
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
        raise BackupError(
            f"{archive_path} could not be unpacked as a backup archive ({exc}); "
            "nothing was restored."
        ) from None
    try:
        if manifest["format"] != FORMAT:
            raise ValueError(manifest["format"])
        expected = {DUMP: manifest["database"]["sha256"]}
        expected |= {f"{MEDIA}/{n}": f["sha256"] for n, f in manifest["media"].items()}
        shapes = {"tables": dict, "migrations": dict, "created_at": str}
        if not all(isinstance(manifest[k], kind) for k, kind in shapes.items()):
            raise TypeError(shapes)
    except (KeyError, TypeError, ValueError, AttributeError):
        raise BackupError(
            f"{archive_path} has no manifest this release can read; nothing was "
            "restored."
        ) from None
    wrong = sorted(
        n for n in expected.keys() | seen.keys() if expected.get(n) != seen.get(n)
    )
    if wrong:
        more = f" (and {len(wrong) - 1} more)" if len(wrong) > 1 else ""
        what = "is missing" if wrong[0] not in seen else "does not match its checksum"
        if wrong[0] not in expected:
            what = "is not in the manifest"
        raise BackupError(
            f"{archive_path} is damaged or altered: {wrong[0]} {what}{more}; "
            "nothing was restored."
        )
    return manifest


def _safe_name(member: tarfile.TarInfo) -> str:
    name = PurePosixPath(member.name)
    inside = name.parts and name.parts[0] in (MEDIA, DUMP, MANIFEST)
    if (
        not member.isfile()
        or name.is_absolute()
        or ".." in name.parts
        or not inside
        or (name.parts[0] == MEDIA and len(name.parts) < 2)
    ):
        raise BackupError(
            f"The archive holds {member.name!r}, which no backup holds; "
            "nothing was restored."
        )
    return name.as_posix()


def _check_release_knows(manifest: dict) -> None:
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    for app, name in manifest["migrations"].items():
        if app in loader.migrated_apps and (app, name) not in loader.disk_migrations:
            raise BackupError(
                f"This backup was made by a newer release (it has migration "
                f"{app}.{name}, which this one does not): restore it with that "
                "release or a later one."
            )


def _pg_restore(pg_restore: str, dump: Path, *, clean: bool) -> None:
    args, env = _libpq_command(pg_restore)
    # One transaction: a restore that fails leaves the database as it was.
    # --no-owner: everything belongs to the DATABASE_URL user, who runs the app.
    options = ["--single-transaction", "--exit-on-error", "--no-owner", "--no-acl"]
    if clean:
        options += ["--clean", "--if-exists"]
    result = subprocess.run(  # noqa: S603 - our own arguments, no shell
        [*args, *options, str(dump)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BackupError(
            "pg_restore could not restore the database, which is left as it was: "
            f"{_first_error(result.stderr)}."
        )


def _check_rows(manifest: dict) -> None:
    with connection.cursor() as cursor:
        restored = _row_counts(cursor)
    wrong = sorted(t for t, n in manifest["tables"].items() if restored.get(t) != n)
    if wrong:
        raise BackupError(
            f"The restored database does not match the manifest: {wrong[0]} has "
            f"{restored.get(wrong[0])} rows, not {manifest['tables'][wrong[0]]}"
            f"{f' (and {len(wrong) - 1} more tables)' if len(wrong) > 1 else ''}."
        )


def _place_media(staged: Path, media_root: Path, expected: dict[str, dict]) -> None:
    """Move the checked files into place, then read each back: what is on
    disk now is what was backed up."""
    media_root.mkdir(parents=True, exist_ok=True)
    for name in expected:
        target = media_root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(staged / name, target)
    for name, wanted in expected.items():
        if _file_digest(media_root / name)["sha256"] != wanted["sha256"]:
            raise BackupError(
                f"{name} in PRIVATE_MEDIA_ROOT does not match the backup after "
                "restoring it: check the disk."
            )


def _migrate_if_behind() -> int:
    """The erasure code of this release needs this release's schema."""
    from django.core.management import call_command
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        call_command("migrate", interactive=False, verbosity=0)
    return len(plan)


def _never_reuse_logged_ids() -> None:
    """Accounts created after the backup, then erased, are not in it; their ids
    must not go to new accounts, or a later restore would erase those."""
    from accounts.models import User

    from . import erasure_log

    erasures, _unreadable = erasure_log.logged_erasures()
    if not erasures:
        return
    highest = max(e.person_id for e in erasures)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [User._meta.db_table])
        sequence = cursor.fetchone()[0]  # already quoted by PostgreSQL
        cursor.execute(f"SELECT last_value FROM {sequence}")  # noqa: S608
        if cursor.fetchone()[0] < highest:
            cursor.execute("SELECT setval(%s, %s)", [sequence, highest])


# --- shared -----------------------------------------------------------------------


def _require_postgres() -> None:
    if connection.vendor != "postgresql":
        raise BackupError(
            "Backups need PostgreSQL (DATABASE_URL=postgres://...); in the embedded "
            "SQLite mode, stop the app and copy the .local/ folder instead."
        )


def _tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise BackupError(
            f"{name} is not installed (or not on PATH): install the PostgreSQL "
            "client tools of the server's version or later, e.g. apt-get install "
            "postgresql-client."
        )
    return path


def _libpq_command(tool: str) -> tuple[list[str], dict[str, str]]:
    """The tool's arguments for the app's database; the password goes in the
    environment, never on a command line others can list."""
    from psycopg.conninfo import make_conninfo

    db = settings.DATABASES["default"]
    params = {
        "dbname": db["NAME"],
        "host": db.get("HOST") or None,
        "port": str(db["PORT"]) if db.get("PORT") else None,
        "user": db.get("USER") or None,
    }
    params |= {
        k: str(v) for k, v in (db.get("OPTIONS") or {}).items() if k in LIBPQ_OPTIONS
    }
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    conninfo = make_conninfo(**{k: v for k, v in params.items() if v is not None})
    return [tool, f"--dbname={conninfo}"], env


def _where() -> str:
    db = settings.DATABASES["default"]
    host = db.get("HOST") or "localhost"
    return f"{db['NAME']} at {host}:{db.get('PORT') or 5432}"


def _row_counts(cursor) -> dict[str, int]:
    counts = {}
    for name in sorted(connection.introspection.table_names(cursor)):
        quoted = connection.ops.quote_name(name)
        cursor.execute(f"SELECT count(*) FROM {quoted}")  # noqa: S608
        counts[name] = cursor.fetchone()[0]
    return counts


def _files_under(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return [p for p in root.rglob("*") if p.is_file() or p.is_symlink()]


def _file_digest(path: Path) -> dict:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return {"sha256": digest.hexdigest(), "bytes": size}


def _first_error(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    line = next((x for x in lines if "error:" in x), lines[0] if lines else "")
    line = re.sub(r"^\S*pg_(dump|restore): error: ", "", line)
    return line.rstrip(".") or "no message"


def _version(tool: str) -> str:
    result = subprocess.run(  # noqa: S603 - our own arguments, no shell
        [tool, "--version"], capture_output=True, text=True, check=False
    )
    return result.stdout.strip()


def _app_version() -> str:
    try:
        with (Path(settings.BASE_DIR) / "pyproject.toml").open("rb") as handle:
            return tomllib.load(handle)["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def _fsync(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
