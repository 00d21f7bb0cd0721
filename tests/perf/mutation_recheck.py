"""Re-checks mutants that `make mutation` left alive against tests written
since, without running mutmut's whole test selection again.

For each surviving mutant, mutmut 3 runs every test that touched its function;
for the services most tests touch (booking a session, say) that is minutes per
survivor on two cores, and a fresh `mutmut run` also reruns the whole clean
selection first. Once new tests have been written for a function, this asks the
narrower question: does one of *these* tests fail with the mutant active?

Each mutant is run as mutmut runs it: from mutants/ (with the project's current
tests copied in), with MUTANT_UNDER_TEST naming it, in a child forked from a
process that has already imported Django and the tests. The tests must first
pass with no mutant active. A mutant whose tests fail is recorded as killed in
mutmut's own results, so `mutmut results` and tests/perf/mutation_score.py
count it; a mutant that still passes keeps its status (other tests may yet
kill one never checked). Nothing is ever turned from killed into anything else.

A mutant mutmut marked as timed out is checked again too: on a loaded machine
its wall-clock limit can pass while the tests are only slow, and the score
counts a timeout as a kill. If these tests do not kill it, it goes back to
"not checked" rather than being counted as killed.

    make mutation-recheck MUTANTS='privacy.services.x_complete_request*' \\
        TESTS=tests/privacy/test_completion_rules.py
"""

import argparse
import fnmatch
import json
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MUTANTS = ROOT / "mutants"
RECHECKED = {None, 0, 5, 33}  # not checked, survived, no tests
TIMEOUTS = {36, -24, 24, 152, 255}  # mutmut's codes for a run over its time limit
KILLED = {1, 3}  # pytest: tests failed, or an internal error (mutmut's rule)


def meta_files() -> list[Path]:
    return sorted(MUTANTS.rglob("*.py.meta"))


def candidates(patterns: list[str]) -> dict[str, tuple[Path, bool]]:
    """Each mutant to recheck: its meta file, and whether it had timed out."""
    found = {}
    for meta in meta_files():
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        for name, code in codes.items():
            if code in RECHECKED | TIMEOUTS and any(
                fnmatch.fnmatch(name, p) for p in patterns
            ):
                found[name] = (meta, code in TIMEOUTS)
    return found


def run_in_child(pytest_args: list[str], mutant: str, limit_s: int) -> int:
    """pytest in a forked child with `mutant` active; its exit code (or -1
    when it ran over `limit_s`)."""
    from mutmut.mutation.trampoline import set_mutant_under_test

    pid = os.fork()
    if pid == 0:
        import pytest

        sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115
        set_mutant_under_test(mutant)
        try:
            code = int(pytest.main(pytest_args))
        except BaseException:
            code = 3
        os._exit(code)
    deadline = time.monotonic() + limit_s
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            return -1
        time.sleep(0.05)


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
    pytest_args = ["--rootdir=.", "-x", "-q", "-p", "no:randomly", "--reuse-db"]
    pytest_args += args.tests

    import pytest

    pytest.main(["--collect-only", "-qqq", *pytest_args])  # import once, fork after
    clean = run_in_child(pytest_args, "", args.limit * 4)
    if clean != 0:
        print(f"the tests fail with no mutant active (exit {clean}): fix them first")
        return 1
    killed, cleared = [], []
    for number, name in enumerate(sorted(todo), 1):
        code = run_in_child(pytest_args, name, args.limit)
        verdict = "killed" if code in KILLED else f"alive (exit {code})"
        print(f"[{number}/{len(todo)}] {name}: {verdict}", flush=True)
        if code in KILLED:
            killed.append(name)
        elif todo[name][1]:  # a timeout these tests do not confirm
            cleared.append(name)
    verdicts = {name: 1 for name in killed} | {name: None for name in cleared}
    for meta in {todo[name][0] for name in verdicts}:
        data = json.loads(meta.read_text())
        for name, code in verdicts.items():
            if todo[name][0] == meta:
                data["exit_code_by_key"][name] = code
        meta.write_text(json.dumps(data, indent=4))
    print(f"{len(killed)} of {len(todo)} rechecked mutants killed by {args.tests}")
    if cleared:
        print(f"{len(cleared)} timeouts not confirmed, back to 'not checked'")
    return 0


if __name__ == "__main__":
    sys.exit(main())
