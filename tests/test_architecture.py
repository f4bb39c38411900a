"""The decision core stays pure: ``routing/`` imports no adapter, I/O library or process state."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# Imports allowed to point only inward: workers -> connectors -> routing.
FORBIDDEN = {
    "routing": {"connectors", "workers", "config", "kafka", "tweepy", "prometheus_client",
                "requests", "httpx", "fastapi", "sqlite3", "socket", "os", "subprocess",
                "pathlib", "time", "random", "logging"},
    "connectors": {"workers", "config"},
}  # fmt: skip
FORBIDDEN_CALLS = {"open", "print", "input"}


def modules(package: str) -> list[Path]:
    return sorted((REPO / package).rglob("*.py"))


def imported_roots(tree: ast.AST) -> set[str]:
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_point_inward(package: str) -> None:
    offenders = {
        str(path.relative_to(REPO)): sorted(
            imported_roots(ast.parse(path.read_text())) & FORBIDDEN[package]
        )
        for path in modules(package)
    }
    assert {p: bad for p, bad in offenders.items() if bad} == {}


def test_routing_does_no_io_and_reads_no_clock() -> None:
    offenders = []
    for path in modules("routing"):
        for node in ast.walk(ast.parse(path.read_text())):
            func = node.func if isinstance(node, ast.Call) else None
            if isinstance(func, ast.Name) and func.id in FORBIDDEN_CALLS:
                offenders.append(f"{path.name}:{node.lineno} {func.id}()")
            if isinstance(func, ast.Attribute) and func.attr in {"now", "utcnow", "today"}:
                offenders.append(f"{path.name}:{node.lineno} .{func.attr}()")
    assert offenders == []
