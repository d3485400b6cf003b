"""The program's shape (issue 27): no module over 700 lines, no function over 60, and no module reaching into
another package for its private names."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "briefer"
MAX_MODULE_LINES = 700
MAX_FUNCTION_LINES = 60


def _modules() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def _dotted(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _package(module: str, path: Path) -> str:
    """The package a module belongs to: itself for a package's __init__, else its parent."""
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def _imported_module(node: ast.ImportFrom, path: Path) -> str:
    if not node.level:
        return node.module or ""
    here = _package(_dotted(path), path).split(".")
    base = here[: len(here) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _long_functions(path: Path, source: str | None = None) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8") if source is None else source)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            assert node.end_lineno is not None
            length = node.end_lineno - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                out.append(f"{path.relative_to(SRC)}:{node.lineno} {node.name} ({length} lines)")
    return out


def test_the_checks_see_the_package() -> None:
    modules = _modules()
    assert len(modules) > 50
    assert SRC / "models" / "__init__.py" in modules and SRC / "model" / "openai" / "client.py" in modules


def test_no_module_over_700_lines() -> None:
    long = {str(p.relative_to(SRC)): n for p in _modules()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert long == {}


def test_no_function_over_60_lines() -> None:
    long = [f for p in _modules() for f in _long_functions(p)]
    assert long == []


def test_the_function_check_counts_a_long_one() -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_FUNCTION_LINES))
    source = f"def short():\n    return 1\n\n\nasync def long():\n{body}"
    assert _long_functions(SRC / "probe.py", source) == [f"probe.py:5 long ({MAX_FUNCTION_LINES + 1} lines)"]


def _private_imports(path: Path, source: str | None = None) -> list[str]:
    module = _dotted(path)
    here = _package(module, path)
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8") if source is None else source)):
        if not isinstance(node, ast.ImportFrom):
            continue
        target = _imported_module(node, path)
        if not target.startswith("briefer"):
            continue
        target_path = SRC.parent / Path(*target.split("."))
        target_package = target if (target_path / "__init__.py").exists() else target.rpartition(".")[0]
        if target_package == here:
            continue
        for alias in node.names:
            if alias.name.startswith("_") and not alias.name.startswith("__"):
                out.append(f"{module}: from {target} import {alias.name}")
    return out


def test_no_private_name_imported_across_packages() -> None:
    found = [f for p in _modules() for f in _private_imports(p)]
    assert found == []


def test_the_private_import_check_resolves_relative_imports() -> None:
    merge = SRC / "brief" / "merge.py"
    assert _package(_dotted(merge), merge) == "briefer.brief"
    node = ast.parse("from ..models import _x").body[0]
    assert isinstance(node, ast.ImportFrom)
    assert _imported_module(node, merge) == "briefer.models"
    init = SRC / "models" / "__init__.py"
    node = ast.parse("from .common import _y").body[0]
    assert isinstance(node, ast.ImportFrom)
    assert _imported_module(node, init) == "briefer.models.common"


def test_the_private_import_check_finds_one() -> None:
    merge = SRC / "brief" / "merge.py"
    source = ("from briefer.models.common import _check_citations\nfrom ..pipeline import _gateway\n"
              "from .stories import _private_here\nfrom briefer._version import __version__\n")
    assert _private_imports(merge, source) == [
        "briefer.brief.merge: from briefer.models.common import _check_citations",
        "briefer.brief.merge: from briefer.pipeline import _gateway",
    ]
