"""The erasure log: one line per erasure, the account's id and when, nothing
else. It lives outside the database and outside the private media folder
(`ERASURE_LOG_PATH`), so it outlives every backup: after a restore,
`manage.py restore` erases again each person it names who the backup still
holds (`replay_erasures`), and erased people never come back.

A line is one `write()` on a file opened in append mode, then fsync'd: several
processes (web, workers) can append at once without mixing their lines, and a
line is on disk before the erasure that wrote it commits.
"""

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings


@dataclass(frozen=True)
class LoggedErasure:
    person_id: int
    erased_at: dt.datetime


def log_path() -> Path:
    return Path(settings.ERASURE_LOG_PATH)


def record_erasure(person_id: int, *, erased_at: dt.datetime) -> None:
    line = json.dumps(
        {"person": person_id, "erased_at": erased_at.astimezone(dt.UTC).isoformat()},
        separators=(",", ":"),
    )
    data = (line + "\n").encode()
    path = log_path()
    created = not path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        # One write per line: O_APPEND places it whole at the end, whoever else
        # is appending. A short write would leave half a line; say so loudly.
        if os.write(fd, data) != len(data):
            raise OSError(f"the erasure log {path} took only part of a line")
        os.fsync(fd)
    finally:
        os.close(fd)
    if created:
        _fsync_folder(path.parent)


def _fsync_folder(folder: Path) -> None:
    """A new file's name is durable only once its folder is synced."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def logged_erasures() -> tuple[list[LoggedErasure], list[int]]:
    """Every readable line, oldest first, and the numbers of lines that cannot
    be read. Only a crash in the middle of a write leaves such a line, and the
    erasure that was writing it never committed."""
    path = log_path()
    if not path.exists():
        return [], []
    erasures, unreadable = [], []
    with path.open("rb") as lines:
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                entry = json.loads(raw)
                erasures.append(
                    LoggedErasure(
                        person_id=int(entry["person"]),
                        erased_at=dt.datetime.fromisoformat(entry["erased_at"]),
                    )
                )
            except (ValueError, KeyError, TypeError):
                unreadable.append(number)
    return erasures, unreadable
