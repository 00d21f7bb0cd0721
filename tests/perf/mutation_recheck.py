"""Re-checks mutants that `make mutation` left alive (or has not reached yet)
against tests written since, without running mutmut's whole selection again.

For each surviving mutant, mutmut 3 runs every test that touched its function;
for the services most tests touch (booking a session, say) that is minutes per
survivor on two cores, and every `mutmut run` first reruns the whole clean
selection. Once new tests have been written for a function, this asks the
narrower question: does one of *these* tests fail with the mutant active?

It runs in mutants/ (with the project's current tests copied in) in one pytest
session: the tests run once with no mutant active (they must pass), then once
per mutant with MUTANT_UNDER_TEST naming it (mutmut's trampoline reads it on
every call), stopping at the first failure. Fixtures are torn down between
mutants as between tests. A kill counts only if the failing test also fails
on its own, in a fresh process, with the mutant active: tests earlier in the
session can leave something behind that fails an unrelated test. A mutant whose tests fail is recorded as killed in
mutmut's own results, so `mutmut results` and tests/perf/mutation_score.py
count it. One that still passes keeps its status, or, if mutmut had not reached
it, is recorded as survived, so the score is never made of kills alone. Nothing
is ever turned from killed into anything else.

A mutant mutmut marked as timed out is checked again too: on a loaded machine
its wall-clock limit can pass while the tests are only slow, and the score
counts a timeout as a kill. If these tests do not kill it, it goes back to
"not checked" rather than being counted as killed.

Mutants listed in docs/mutation-equivalent.txt are skipped.

    make mutation-recheck MUTANTS='privacy.services.x_complete_request*' \\
        TESTS=tests/privacy/test_completion_rules.py
"""

import argparse
import fnmatch
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MUTANTS = ROOT / "mutants"
RECHECKED = {None, 0, 5, 33}  # not checked, survived, no tests
TIMEOUTS = {36, -24, 24, 152, 255}  # mutmut's codes for a run over its time limit


def equivalent() -> set[str]:
    path = ROOT / "docs" / "mutation-equivalent.txt"
    lines = path.read_text().splitlines() if path.exists() else []
    return {line.split("#", 1)[0].strip() for line in lines} - {""}


def candidates(patterns: list[str]) -> dict[str, tuple[Path, bool, bool]]:
    """Each mutant to recheck: its meta file, whether it had timed out, and
    whether mutmut has not checked it yet."""
    skip = equivalent()
    found = {}
    for meta in sorted(MUTANTS.rglob("*.py.meta")):
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        for name, code in codes.items():
            if (
                code in RECHECKED | TIMEOUTS
                and name not in skip
                and any(fnmatch.fnmatch(name, p) for p in patterns)
            ):
                found[name] = (meta, code in TIMEOUTS, code is None)
    return found


def record(mutant: str, where: tuple[Path, bool, bool], killed: bool) -> None:
    """Write one verdict into mutmut's results at once, so a stopped recheck
    keeps what it found. Killed is killed. A mutant these tests leave alive
    stays as it was if mutmut had checked it (survived, no tests); if mutmut
    had not reached it, it is recorded as survived, so that the score is never
    made of kills alone (pessimistic: a test elsewhere might kill it); a
    timeout these tests do not confirm goes back to "not checked"."""
    meta, timed_out, unchecked = where
    if killed:
        code = 1
    elif timed_out:
        code = None
    elif unchecked:
        code = 0
    else:
        return
    data = json.loads(meta.read_text())
    data["exit_code_by_key"][mutant] = code
    meta.write_text(json.dumps(data, indent=4))


def fails_alone(nodeid: str, mutant: str) -> bool:
    """Whether the test that failed in the shared session also fails on its
    own, in a fresh process, with the mutant active. Tests earlier in the
    session can leave something behind (a lock held by a race test's thread,
    say) that makes an unrelated test fail. Checking this session's recheck
    (1,488 kills) found 8 such false kills, none of them failing alone; a
    random 40 of the other kills all failed alone too."""
    pytest = [sys.executable, "-m", "pytest", "--rootdir=.", "-q", "--reuse-db"]
    run = subprocess.run(
        [*pytest, "-p", "no:randomly", nodeid],
        env=dict(os.environ, MUTANT_UNDER_TEST=mutant),
        capture_output=True,
        check=False,
    )
    return run.returncode in (1, 3)  # tests failed, or pytest's internal error


class _TooLong(KeyboardInterrupt):
    """Raised by the alarm inside a test; pytest lets a KeyboardInterrupt
    through instead of reporting it as that test failing (a false kill)."""


class OneSessionPerMutant:
    """A pytest plugin: runs the collected tests once with no mutant, then once
    per mutant, and keeps each verdict in `self.verdicts` (True: killed)."""

    def __init__(self, todo: dict[str, tuple[Path, bool, bool]], limit_s: int):
        self.todo = todo
        # The ones the score counts against first (survived, no tests, timed
        # out), then those mutmut has not reached.
        self.mutants = sorted(todo, key=lambda name: (todo[name][2], name))
        self.limit_s = limit_s
        self.verdicts: dict[str, bool] = {}
        self.clean_failed = ""

    def _fails(self, session, mutant: str) -> str:
        from _pytest.runner import runtestprotocol
        from mutmut.mutation.trampoline import set_mutant_under_test

        set_mutant_under_test(mutant)
        items = session.items
        failed = ""

        def too_long(*_):
            raise _TooLong

        signal.signal(signal.SIGALRM, too_long)
        signal.alarm(self.limit_s)
        try:
            for index, item in enumerate(items):
                # Keep what the first test needs (the test database) between
                # mutants; everything else is torn down as between tests.
                following = items[index + 1] if index + 1 < len(items) else items[0]
                reports = runtestprotocol(item, nextitem=following, log=False)
                if any(report.failed for report in reports):
                    failed = item.nodeid
                    break
        except _TooLong:
            failed = "(over the time limit)"
        finally:
            signal.alarm(0)
            session._setupstate.teardown_exact(items[0])
        return failed

    def pytest_runtestloop(self, session):
        if session.config.option.collectonly:
            return None
        self.clean_failed = self._fails(session, "")
        if self.clean_failed:
            return True
        for number, mutant in enumerate(self.mutants, 1):
            started = time.monotonic()
            failed = self._fails(session, mutant)
            killed = (
                bool(failed)
                and failed != "(over the time limit)"
                and fails_alone(failed, mutant)
            )
            if failed and not killed:
                failed += " (not failing in a fresh process)"
            self.verdicts[mutant] = killed
            record(mutant, self.todo[mutant], killed)
            print(
                f"[{number}/{len(self.mutants)}] {mutant}: "
                f"{'killed by ' + failed if killed else 'alive ' + failed}"
                f" ({time.monotonic() - started:.1f} s)",
                flush=True,
            )
        session.testsfailed = 0
        return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("patterns", nargs="+", help="mutant names or globs")
    parser.add_argument("--tests", nargs="+", required=True, help="test paths")
    parser.add_argument("--limit", type=int, default=300, help="seconds a mutant")
    args = parser.parse_args()
    if not MUTANTS.is_dir():
        print("no mutants/ folder: run `make mutation` first")
        return 2
    todo = candidates(args.patterns)
    if not todo:
        print("nothing to recheck: no surviving or unchecked mutant matches")
        return 0
    # The tests as they are now, as mutmut copies them at the start of a run.
    shutil.copytree(ROOT / "tests", MUTANTS / "tests", dirs_exist_ok=True)
    os.chdir(MUTANTS)
    sys.path.insert(0, str(MUTANTS))

    import pytest

    # tests/conftest.py then runs the fastest tests first, by mutmut's own
    # timings (tests it has not timed, the newest, first), transactional last.
    os.environ["MUTATION_FAST_FIRST"] = "1"
    plugin = OneSessionPerMutant(todo, args.limit)
    pytest.main(
        ["--rootdir=.", "-q", "-p", "no:randomly", "--reuse-db", *args.tests],
        plugins=[plugin],
    )
    if plugin.clean_failed:
        print(f"{plugin.clean_failed} fails with no mutant active: fix it first")
        return 1
    killed = [name for name, dead in plugin.verdicts.items() if dead]
    cleared = [n for n, dead in plugin.verdicts.items() if not dead and todo[n][1]]
    print(f"{len(killed)} of {len(todo)} rechecked mutants killed by {args.tests}")
    if cleared:
        print(f"{len(cleared)} timeouts not confirmed, back to 'not checked'")
    return 0


if __name__ == "__main__":
    sys.exit(main())
