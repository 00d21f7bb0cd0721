"""Prints the mutation score after `make mutation`, per module and overall.

Mutants judged equivalent (no test could tell them apart from the original,
e.g. `save(update_fields=None)` saving the same single changed field) are
listed, one name a line with the reason after a `#`, in
`docs/mutation-equivalent.txt`; they are left out of the denominator and
printed, so the judgement can be checked.

    .venv/bin/python tests/perf/mutation_score.py
"""

import collections
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MUTMUT = Path(sys.executable).parent / "mutmut"


def equivalent() -> set[str]:
    path = ROOT / "docs" / "mutation-equivalent.txt"
    if not path.exists():
        return set()
    names = set()
    for line in path.read_text().splitlines():
        name = line.split("#", 1)[0].strip()
        if name:
            names.add(name)
    return names


def main() -> int:
    out = subprocess.run(
        [str(MUTMUT), "results", "--all", "true"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    same = equivalent()
    per_module: dict[str, collections.Counter] = collections.defaultdict(
        collections.Counter
    )
    survivors = []
    for line in out.splitlines():
        if ":" not in line:
            continue
        name, status = (part.strip() for part in line.rsplit(":", 1))
        module = name.rsplit(".", 1)[0]
        if name in same:
            per_module[module]["equivalent"] += 1
            continue
        per_module[module][status] += 1
        if status in ("survived", "no tests"):
            survivors.append(name)
    if not per_module:
        print("no mutation results: run `make mutation` first")
        return 2
    head = f"{'module':<32} {'killed':>7} {'survived':>9} {'not run':>8} {'equiv':>6} {'score':>6}"
    print(head)
    print("-" * len(head))
    totals = collections.Counter()
    for module, c in sorted(per_module.items()):
        killed = c["killed"] + c["timeout"]
        other = sum(c.values()) - killed - c["survived"] - c["equivalent"]
        counted = killed + c["survived"] + c["no tests"]
        score = f"{killed / counted:.0%}" if counted else "-"
        totals.update(c)
        print(
            f"{module:<32} {killed:>7} {c['survived']:>9} {other:>8} "
            f"{c['equivalent']:>6} {score:>6}"
        )
    killed = totals["killed"] + totals["timeout"]
    counted = killed + totals["survived"] + totals["no tests"]
    print("-" * len(head))
    print(
        f"{'all':<32} {killed:>7} {totals['survived']:>9} "
        f"{sum(totals.values()) - killed - totals['survived'] - totals['equivalent']:>8} "
        f"{totals['equivalent']:>6} {killed / counted if counted else 1:>6.0%}"
    )
    print(
        f"\n{len(survivors)} surviving mutants: `.venv/bin/mutmut show NAME` for each"
    )
    for name in survivors[:40]:
        print(f"  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
