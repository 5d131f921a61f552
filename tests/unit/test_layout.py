"""The package's shape: no import circle, and imports run one way between the packages.

cli -> ecr -> core -> store -> the shared top-level modules (errors, ui, logs, paths,
credentials, signals), never back. Function-level imports count too: a lazy import
back into a package that imports you is still a circle.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "assumer"
# Higher may import lower, never the reverse.
LAYERS = {"cli": 4, "ecr": 3, "core": 2, "store": 1}
SHARED = 0
# The console entry points of ``python -m assumer`` sit above everything.
ENTRY_POINTS = {"assumer.__main__"}


def module_names() -> dict[str, Path]:
    names = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        names[name] = path
    return names


def imports_of(path: Path, known: set[str]) -> set[str]:
    """Every assumer module ``path`` imports, at module level or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "assumer":
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                found.add(full if full in known else node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.split(".")[0] == "assumer")
    return {name for name in found if name in known and name != "assumer"}


def layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS.get(parts[1], SHARED) if len(parts) > 2 else SHARED


def graph() -> dict[str, set[str]]:
    names = module_names()
    return {name: imports_of(path, set(names)) - {name} for name, path in names.items()}


def test_the_packages_exist_with_empty_init_files() -> None:
    # An empty __init__ keeps "import assumer.store.cache" from importing its siblings (hot path).
    for package in LAYERS:
        init = PACKAGE / package / "__init__.py"
        assert init.is_file(), f"assumer/{package}/ is not a package"
        assert init.read_text(encoding="utf-8").strip() == "", f"assumer/{package}/__init__.py is not empty"


def test_no_module_imports_one_that_imports_it_back() -> None:
    edges = graph()
    for start in edges:
        seen: set[str] = set()
        stack = list(edges[start])
        while stack:
            module = stack.pop()
            assert module != start, f"import circle through {start}"
            if module not in seen:
                seen.add(module)
                stack.extend(edges.get(module, ()))


def test_imports_run_from_cli_to_ecr_to_core_to_store_only() -> None:
    upward = [
        f"{module} -> {imported}"
        for module, imported_set in graph().items() if module not in ENTRY_POINTS
        for imported in imported_set if layer(imported) > layer(module)
    ]
    assert upward == []


def test_the_checker_sees_function_level_imports(tmp_path: Path) -> None:
    # The checks above are only as good as imports_of: it must see a lazy import.
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from assumer.cli import app\n    import assumer.core.sts\n")
    assert imports_of(source, {"assumer.cli.app", "assumer.core.sts", "assumer.cli"}) == {
        "assumer.cli.app", "assumer.core.sts"}
