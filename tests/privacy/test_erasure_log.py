"""The erasure log (issue 18): every erasure appends the account's id and when,
nothing else, durably and whole under concurrent writers; an erasure that
cannot be logged does not happen; after a restore, the log erases again
everyone the restored database still holds unerased."""

import json
import multiprocessing

import pytest
from django.utils import timezone

from accounts.models import User
from privacy import erasure_log, services
from privacy.models import AuditEvent
from tests.accounts.factories import UserFactory


@pytest.fixture
def log(settings, tmp_path):
    settings.ERASURE_LOG_PATH = str(tmp_path / "erasures" / "erasure-log.jsonl")
    return tmp_path / "erasures" / "erasure-log.jsonl"


def _lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.django_db
def test_an_erasure_logs_the_id_and_the_time_and_nothing_else(log):
    person = UserFactory.create(first_name="Ada", last_name="Lovelace")
    email = person.email
    services.erase_person(person)
    person.refresh_from_db()

    assert _lines(log) == [
        {"person": person.pk, "erased_at": person.erased_at.isoformat()}
    ]
    assert email not in log.read_text()
    assert "Lovelace" not in log.read_text()
    assert log.stat().st_mode & 0o777 == 0o600


@pytest.mark.django_db
def test_erasing_again_adds_no_second_line(log):
    person = UserFactory.create()
    services.erase_person(person)
    services.erase_person(person)
    assert len(_lines(log)) == 1


@pytest.mark.django_db
def test_an_erasure_that_cannot_be_logged_does_not_happen(settings, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    settings.ERASURE_LOG_PATH = str(blocker / "erasure-log.jsonl")
    person = UserFactory.create(first_name="Ada")

    with pytest.raises(FileExistsError):
        services.erase_person(person)

    person = User.objects.get(pk=person.pk)
    assert person.erased_at is None
    assert person.first_name == "Ada"
    assert not AuditEvent.objects.filter(action="erasure").exists()


def _append_many(start: int) -> None:
    for n in range(start, start + 250):
        erasure_log.record_erasure(n, erased_at=timezone.now())


def test_concurrent_writers_never_mix_their_lines(log):
    context = multiprocessing.get_context("fork")
    writers = [context.Process(target=_append_many, args=(n,)) for n in (0, 1000)]
    writers += [context.Process(target=_append_many, args=(n,)) for n in (2000, 3000)]
    [w.start() for w in writers]
    [w.join(timeout=60) for w in writers]

    erasures, unreadable = erasure_log.logged_erasures()
    assert unreadable == []
    assert sorted(e.person_id for e in erasures) == [
        n for start in (0, 1000, 2000, 3000) for n in range(start, start + 250)
    ]


@pytest.mark.django_db
def test_a_replay_erases_again_only_whom_the_restore_brought_back(log):
    back, already, kept = UserFactory.create_batch(3)
    # As after a restore: the log names `back` (erased after the backup, so
    # whole again in it), `already` (erased before) and an account the backup
    # never had; one line was torn by a crash mid-write.
    services.erase_person(already)
    erasure_log.record_erasure(back.pk, erased_at=timezone.now())
    erasure_log.record_erasure(kept.pk + 1000, erased_at=timezone.now())
    with log.open("a") as torn:
        torn.write('{"person":12\n')
    before = log.read_text()

    counts = services.replay_logged_erasures(restored_from="cpd-20260101-020000.tar.gz")

    assert counts == {
        "erased again": 1,
        "already erased": 1,
        "not in the backup": 1,
        "unreadable lines": 1,
    }
    back.refresh_from_db()
    kept.refresh_from_db()
    assert back.erased_at is not None
    assert back.email == f"erased-{back.pk}@erased.invalid"
    assert kept.erased_at is None
    assert log.read_text() == before  # a replay is not a new erasure
    assert AuditEvent.objects.filter(
        action="erasure",
        subject=f"user:{back.pk}",
        detail="replayed after restoring cpd-20260101-020000.tar.gz",
    ).exists()
