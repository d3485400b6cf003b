"""The shape of the program: the layer contracts in pyproject.toml ([tool.importlinter]) hold over the real import
graph, and no two modules or packages of briefer import each other, however indirectly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp

from conftest import ROOT


def test_the_layer_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "broken" in done.stdout and " 0 broken" in done.stdout


def _unit(module: str) -> str:
    """A top-level module or package of briefer (briefer.model.llm -> briefer.model)."""
    return ".".join(module.split(".")[:2])


def test_no_import_circle_between_briefers_modules_and_packages() -> None:
    graph = grimp.build_graph("briefer")
    edges: dict[str, set[str]] = {}
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            a, b = _unit(module), _unit(imported)
            if a != b and a != "briefer" and b != "briefer":  # the package's face imports lazily what it exports
                edges.setdefault(a, set()).add(b)
    circles = []
    for a, targets in edges.items():
        for b in targets:
            # b reaches a again?
            seen, stack = set(), [b]
            while stack:
                x = stack.pop()
                if x == a:
                    circles.append((a, b))
                    break
                if x not in seen:
                    seen.add(x)
                    stack.extend(edges.get(x, ()))
    assert circles == []
