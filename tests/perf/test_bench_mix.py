"""The benchmark's request lists: every row it prints has lines of the shape
wrk's script reads, signed in where the row says so. (The benchmark itself
prints figures and is not run by `make test`.)"""

import re

import pytest

from tests.perf import bench_mix

# bench_mix.LUA's pattern, `^(%S+) (%S*) ?(%S*)$`, in Python.
LINE = re.compile(r"^(\S+) (\S*) ?(\S*)$")
SIGNED_IN = {"course_in", "bookings_in", "layout_in", "book"}


@pytest.fixture
def lists():
    learners = [[str(pid), f"key{pid}"] for pid in range(1, 41)]
    return bench_mix.request_lists(
        [f"course-{n}" for n in range(100)],
        learners,
        list(range(500, 600)),
        ["3", "4"],
        connections=8,
    )


def test_every_row_has_lines_wrk_reads(lists):
    assert set(lists) == {key for key, _label, _target in bench_mix.ROWS}
    for key, lines in lists.items():
        assert lines, key
        for line in lines:
            path, cookie, session = LINE.match(line).groups()
            assert path.startswith("/"), (key, line)
            assert bool(cookie) == (key in SIGNED_IN), (key, line)
            assert bool(session) == (key == "book"), (key, line)


def test_the_signed_in_rows_take_turns_among_one_learner_a_connection(lists):
    for key in ("course_in", "bookings_in", "layout_in"):
        cookies = {LINE.match(line).group(2) for line in lists[key]}
        assert cookies == {f"key{pid}" for pid in range(1, 9)}, key
    # Each booking POST is a learner and a session not paired before.
    pairs = [tuple(LINE.match(line).groups()[1:]) for line in lists["book"]]
    assert len(pairs) == len(set(pairs)) == 100


def test_the_cold_mix_never_asks_the_same_address_twice(lists):
    mix = lists["mix"]
    assert len(mix) == len(set(mix)) == 40_000
    assert all(line.startswith("/courses/?") for line in mix)
    assert mix == [f"{p} " for p in bench_mix.mix_paths(40_000, ["3", "4"], 15)]
