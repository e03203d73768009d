"""The tree shows the architecture: no import circle inside vault/, lower layers never import
the service, the CLI and the TUI, and the detection library stays pure. Read from the source
(every import statement, at any depth, including those inside functions), not from what
happens to be loaded."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VAULT = ROOT / "vault"


def _module(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports() -> dict[str, set[str]]:
    """module -> the vault modules it imports (a package import counts as its __init__)."""
    modules = {_module(p): p for p in VAULT.rglob("*.py") if "migrations" not in p.parts}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        deps: set[str] = set()
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(up + ([base] if base else []))
                # `from pkg import sub` imports the submodule; `from pkg import name`, the
                # package (a compiled extension counts as a leaf of its own)
                subs = [f"{base}.{a.name}" for a in node.names]
                if all(s in modules or not base.startswith("vault") or
                       (VAULT.parent / s.replace(".", "/")).with_suffix(".c").exists()
                       for s in subs):
                    targets = [s for s in subs if s in modules]
                else:
                    targets = [base]
            else:
                continue
            for t in targets:
                while t and t not in modules:
                    t = t.rpartition(".")[0]
                if t and t != name:
                    deps.add(t)
        graph[name] = deps
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        stack.append(n)
        for d in sorted(graph.get(n, ())):
            if state.get(d) == 1:
                return stack[stack.index(d):] + [d]
            if d not in state and (found := visit(d)):
                return found
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state and (found := visit(n)):
            return found
    return None


def test_no_import_circle_inside_vault() -> None:
    assert _cycle(_imports()) is None


def test_the_circle_finder_finds_one() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


@pytest.mark.parametrize("lower", ["vault.evidence", "vault.pii", "vault.review", "vault.people",
                                   "vault.crypto", "vault.audit", "vault.retention",
                                   "vault.metadata", "vault.age", "vault.catalogue",
                                   "vault.errors", "vault.config"])
def test_lower_layers_never_import_the_service_or_the_interfaces(lower: str) -> None:
    graph = _imports()
    for name, deps in graph.items():
        if name == lower or name.startswith(lower + "."):
            above = {d for d in deps if d.split(".")[:2] in (["vault", "service"],
                                                             ["vault", "cli"])}
            assert not above, f"{name} imports {sorted(above)}"


def test_the_detection_library_needs_no_store_database_or_age() -> None:
    for name, deps in _imports().items():
        if name.startswith("vault.pii"):
            outside = {d for d in deps if not d.startswith("vault.pii")} - {"vault.errors"}
            assert not outside, f"{name} imports {sorted(outside)}"
