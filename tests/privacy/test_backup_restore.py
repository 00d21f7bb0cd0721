"""Backups that restore (issue 18), end to end on the real PostgreSQL: a
populated database (every category of personal data, with its files, plus
bookings and a prepared data download) is backed up by `manage.py backup`,
restored by `manage.py restore` into fresh databases this module creates and
drops, and compared row for row per table and file for file by SHA-256. A
person erased after the backup is erased again by the restore (the erasure
log); a database that is not empty, and an archive that does not match its
manifest, are refused with one line before anything is touched."""

import datetime as dt
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.files.base import ContentFile

from funding.models import FundingDocument
from privacy import registry, services
from privacy.backups import make_backup, prune_backups
from tests.accounts.factories import UserFactory
from tests.bookings.factories import BookingFactory
from tests.funding.factories import PDF, FundingRequestFactory
from tests.privacy.test_export_registry import fill_every_category

ROOT = Path(__file__).resolve().parents[2]
DB = settings.DATABASES["default"]


def _conninfo(name: str) -> str:
    return psycopg.conninfo.make_conninfo(
        dbname=name,
        host=DB["HOST"] or "127.0.0.1",
        port=str(DB["PORT"] or 5432),
        user=DB["USER"] or "postgres",
        password=DB["PASSWORD"] or None,
    )


def _url(name: str) -> str:
    password = f":{DB['PASSWORD']}" if DB["PASSWORD"] else ""
    host, port = DB["HOST"] or "127.0.0.1", DB["PORT"] or 5432
    return f"postgres://{DB['USER'] or 'postgres'}{password}@{host}:{port}/{name}"


@pytest.fixture
def fresh_database():
    """Empty databases of this test's own (no migrations), dropped after it."""
    made = []

    def make() -> str:
        name = f"cpd_restore_{os.getpid()}_{len(made)}"
        with psycopg.connect(_conninfo("postgres"), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        return name

    yield make
    with psycopg.connect(_conninfo("postgres"), autocommit=True) as admin:
        for name in made:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def places(settings, tmp_path):
    """Where the app keeps files and its erasure log, here and in the commands."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.ERASURE_LOG_PATH = str(tmp_path / "erasures" / "erasure-log.jsonl")
    (tmp_path / "media").mkdir()
    return tmp_path


def manage(
    *args: str, database: str, media: Path, log: str, **env_vars: str
) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        {
            "DATABASE_URL": _url(database),
            "PRIVATE_MEDIA_ROOT": str(media),
            "ERASURE_LOG_PATH": log,
            **env_vars,
        }
    )
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def backup(places: Path) -> Path:
    """`manage.py backup`, as an operator runs it."""
    result = manage(
        "backup",
        "--dir",
        str(places / "backups"),
        database=DB["NAME"],
        media=places / "media",
        log=settings.ERASURE_LOG_PATH,
    )
    assert result.returncode == 0, result.stderr
    [archive] = (places / "backups").glob("cpd-*.tar.gz")
    return archive


def quick_backup(places: Path) -> Path:
    """The same backup, made in this process (a second of start-up saved)."""
    archive, _manifest = make_backup(places / "backups")
    return archive


def restore(
    archive: Path, places: Path, database: str, *extra: str, media: str = "restored"
):
    return manage(
        "restore",
        str(archive),
        *extra,
        database=database,
        media=places / media,
        log=settings.ERASURE_LOG_PATH,
    )


def row_counts(database: str) -> dict[str, int]:
    with psycopg.connect(_conninfo(database)) as db:
        tables = [
            name
            for (name,) in db.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            )
        ]
        return {
            t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]  # noqa: S608
            for t in sorted(tables)
        }


def checksums(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(
            path.read_bytes()
        ).hexdigest()
        for path in folder.rglob("*")
        if path.is_file()
    }


def one_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def populate():
    """One person with a row and a file in every category of personal data;
    another with a booking and a funding request with a document; bookings;
    a data download (a file in exports/)."""
    everything, other = UserFactory.create_batch(2)
    fill_every_category(everything)
    BookingFactory.create(person=other)
    funding_request = FundingRequestFactory.create(person=other)
    FundingDocument(
        request=funding_request,
        kind=FundingDocument.Kind.SUPPORTING,
        file=ContentFile(PDF, name="quote.pdf"),
        original_name="quote.pdf",
        content_type="application/pdf",
        size=len(PDF),
    ).save()
    BookingFactory.create_batch(3)
    services.prepare_export(everything)
    return everything, other


@pytest.mark.django_db(transaction=True)
def test_a_backup_restores_into_a_fresh_database_with_every_row_and_file(
    places, fresh_database
):
    populate()
    archive = backup(places)
    source_rows = row_counts(DB["NAME"])
    source_files = checksums(places / "media")
    assert any(name.startswith("exports/") for name in source_files)
    assert len(source_files) >= 4
    assert archive.stat().st_mode & 0o777 == 0o600

    target = fresh_database()
    result = restore(archive, places, target)

    assert result.returncode == 0, result.stderr
    assert row_counts(target) == source_rows
    assert checksums(places / "restored") == source_files
    with tarfile.open(archive) as packed:
        manifest = json.load(packed.extractfile("manifest.json"))
    assert manifest["tables"] == source_rows
    assert {n: f["sha256"] for n, f in manifest["media"].items()} == source_files
    assert manifest["created_at"].endswith("+00:00")
    assert manifest["migrations"]["privacy"] >= "0002"

    # Now it holds rows: a second restore into it is refused, and changes nothing.
    again = restore(archive, places, target, media="elsewhere")
    assert one_line(again).startswith(
        f"CommandError: The database {target} at 127.0.0.1:5432 is not empty ("
    )
    assert "add --force" in again.stderr
    assert row_counts(target) == source_rows
    # A media folder that holds files is refused the same way.
    stray = places / "stray" / "funding"
    stray.mkdir(parents=True)
    (stray / "old.pdf").write_bytes(b"%PDF-old")
    into_stray = restore(archive, places, fresh_database(), media="stray")
    assert "already holds 1 files" in one_line(into_stray)


def _files_of(person) -> list[str]:
    """The person's files that erasure removes (not those under a legal hold)."""
    return [
        getattr(row, name).name
        for category in registry.categories()
        if not category.legal_hold
        for name in category.files
        for row in category.rows_of(person)
        if getattr(row, name)
    ]


@pytest.mark.django_db(transaction=True)
def test_a_person_erased_after_the_backup_is_erased_again_on_restore(
    places, fresh_database
):
    gone, kept = populate()
    gone_files = _files_of(gone)
    assert gone_files
    archive = quick_backup(places)
    gone_email, kept_email = gone.email, kept.email
    services.erase_person(gone)
    late = UserFactory.create()  # joined after the backup, erased since
    services.erase_person(late)

    target = fresh_database()
    result = restore(archive, places, target)

    assert result.returncode == 0, result.stderr
    assert (
        "Erasure log replayed: 1 erased again, 0 already erased, "
        "1 not in the backup, 0 unreadable lines."
    ) in result.stdout
    with psycopg.connect(_conninfo(target)) as db:
        people = {
            pk: (email, first, last, erased)
            for pk, email, first, last, erased in db.execute(
                "SELECT id, email, first_name, last_name, erased_at IS NOT NULL "
                "FROM accounts_user WHERE id = ANY(%s)",
                [[gone.pk, kept.pk]],
            )
        }
        audit = db.execute(
            "SELECT detail FROM privacy_auditevent WHERE subject = %s",
            [f"user:{gone.pk}"],
        ).fetchall()
        next_id = db.execute(
            "SELECT nextval(pg_get_serial_sequence('accounts_user', 'id'))"
        ).fetchone()[0]
    assert people[gone.pk] == (f"erased-{gone.pk}@erased.invalid", "", "", True)
    assert people[kept.pk] == (kept_email, kept.first_name, kept.last_name, False)
    assert gone_email not in json.dumps(people)
    assert (f"replayed after restoring {archive.name}",) in audit
    restored_files = checksums(places / "restored")
    assert [f for f in gone_files if f in restored_files] == []
    assert _files_of(kept)
    assert all(f in restored_files for f in _files_of(kept))
    # The late account's id is never given to someone new, whom a later
    # restore would otherwise erase in its place.
    assert next_id > late.pk


def _rewrite(archive: Path, change) -> Path:
    """A copy of the archive with `change(name, data)` applied to each member."""
    altered = archive.with_name("altered.tar.gz")
    with tarfile.open(archive) as source, tarfile.open(altered, "w:gz") as out:
        for member in source:
            data = change(member.name, source.extractfile(member).read())
            member.size = len(data)
            out.addfile(member, io.BytesIO(data))
    return altered


@pytest.mark.django_db(transaction=True)
def test_an_archive_that_does_not_match_is_refused_before_anything_is_touched(
    places, fresh_database
):
    person = UserFactory.create()
    fill_every_category(person)
    archive = quick_backup(places)
    victim = next(iter(checksums(places / "media")))

    def tamper(name, data):
        return b"%PDF-forged" if name == f"media/{victim}" else data

    target = fresh_database()
    result = restore(_rewrite(archive, tamper), places, target)
    assert one_line(result) == (
        f"CommandError: {places / 'backups' / 'altered.tar.gz'} is damaged or "
        f"altered: media/{victim} does not match its checksum; nothing was restored."
    )
    assert row_counts(target) == {}
    assert not (places / "restored").exists()

    def from_the_future(name, data):
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["migrations"]["privacy"] = "9999_from_a_later_release"
        return json.dumps(manifest).encode()

    not_an_archive = places / "notes.tar.gz"
    not_an_archive.write_text("not a backup")
    assert one_line(restore(not_an_archive, places, target)).startswith(
        f"CommandError: {not_an_archive} could not be unpacked as a backup archive ("
    )

    newer = restore(_rewrite(archive, from_the_future), places, target)
    assert one_line(newer) == (
        "CommandError: This backup was made by a newer release (it has migration "
        "privacy.9999_from_a_later_release, which this one does not): restore it "
        "with that release or a later one."
    )
    assert row_counts(target) == {}


@pytest.mark.parametrize(
    ("database", "env", "folder", "line"),
    [
        (
            "cpd",
            {"PATH": "/nonexistent"},
            "backups",
            "CommandError: pg_dump is not installed (or not on PATH): install the "
            "PostgreSQL client tools of the server's version or later, e.g. "
            "apt-get install postgresql-client.",
        ),
        (
            "cpd_no_such_database",
            {},
            "backups",
            "Database error: cannot reach the database at 127.0.0.1:5432 "
            "(DATABASE_URL):",
        ),
        (
            "cpd",
            {},
            "a-file/backups",
            "CommandError: Cannot write to the backup folder {tmp}/a-file/backups: "
            "Not a directory.",
        ),
    ],
    ids=["no pg_dump", "database unreachable", "folder not writable"],
)
def test_a_backup_that_cannot_be_made_says_why_in_one_line(
    tmp_path, database, env, folder, line
):
    (tmp_path / "a-file").write_text("")
    result = manage(
        "backup",
        "--dir",
        str(tmp_path / folder),
        database=database,
        media=tmp_path / "media",
        log=str(tmp_path / "erasures.jsonl"),
        **env,
    )
    assert one_line(result).startswith(line.format(tmp=tmp_path))
    assert not list(tmp_path.rglob("cpd-*.tar.gz"))


def test_old_archives_are_deleted_and_nothing_else(tmp_path):
    names = [
        "cpd-20260101-020000.tar.gz",  # 40 days old
        "cpd-20260130-020000.tar.gz",  # 11 days
        "cpd-20260101-020000-2.tar.gz",  # a second one that second, 40 days
        "cpd-notes.tar.gz",
        "other-20250101-020000.tar.gz",
    ]
    for name in names:
        (tmp_path / name).write_text("")
    now = dt.datetime(2026, 2, 10, 2, 0, tzinfo=dt.UTC)

    removed = prune_backups(tmp_path, keep_days=30, now=now)

    assert sorted(p.name for p in removed) == [
        "cpd-20260101-020000-2.tar.gz",
        "cpd-20260101-020000.tar.gz",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "cpd-20260130-020000.tar.gz",
        "cpd-notes.tar.gz",
        "other-20250101-020000.tar.gz",
    ]
