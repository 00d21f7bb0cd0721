"""mutmut 3 never mutates a decorated function (other than a staticmethod or a
classmethod), so a service written as `@transaction.atomic def ...` would drop
out of the mutation score without anyone noticing. Services open their
transaction with `with transaction.atomic():` instead; this keeps it so."""

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if ROOT.name == "mutants":  # mutmut's copy, whose functions it has decorated
    ROOT = ROOT.parent
ALLOWED = {"staticmethod", "classmethod"}


def mutated_files() -> list[Path]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    files = []
    for entry in config["source_paths"]:
        path = ROOT / entry
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return files


def test_no_function_under_mutation_testing_is_decorated():
    decorated = []
    for path in mutated_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                names = {ast.unparse(d) for d in node.decorator_list}
                if names - ALLOWED:
                    decorated.append(
                        f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"
                    )
    assert len(mutated_files()) >= 5
    assert decorated == [], (
        "mutmut skips decorated functions; use `with transaction.atomic():` "
        f"inside the body instead: {decorated}"
    )


def test_no_function_under_mutation_testing_is_built_at_import():
    """A function made by calling a factory at import time (`object_to_profiling
    = _object_to("profiling", ...)`, as privacy/services.py once had) is bound
    to the original code before mutmut picks a mutant, so none of the factory's
    mutants can ever run: they show as survivors that no test could kill."""
    built = []
    for path in mutated_files():
        tree = ast.parse(path.read_text())
        defined = {
            node.name
            for node in tree.body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        for node in tree.body:
            value = getattr(node, "value", None)
            if (
                isinstance(node, ast.Assign | ast.AnnAssign)
                and isinstance(value, ast.Call)
                and isinstance(value.func, ast.Name)
                and value.func.id in defined
            ):
                built.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert built == [], (
        "mutmut cannot reach a function built by a factory at import; "
        f"write it as a plain function: {built}"
    )
