"""The house's layout: imports run one way (data_access → components → pages → app.py), data_access imports
no streamlit, and no product module takes part in an import circle.

The graph is read with ``ast`` from the source (every ``import`` / ``from … import``, at module level or
inside a function), so an import moved into a function to dodge a circle still counts as an edge.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "data_access"
# Layers from the bottom up: a module may import its own layer and those below, never one above.
LAYERS = ("data_access", "components", "pages", "app")


def _modules(folders=(PACKAGE,)) -> dict[str, Path]:
    out = {}
    for folder in folders:
        paths = [ROOT / folder] if folder.endswith(".py") else sorted((ROOT / folder).rglob("*.py"))
        for path in paths:
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Every module of the package (or outside it, by its top name) that ``name`` imports."""
    is_package = path.name == "__init__.py"
    here = name.split(".") if is_package else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[:len(here) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            for alias in node.names:  # ``from . import x``: x may be a module
                if f"{target}.{alias.name}" in modules:
                    found.add(f"{target}.{alias.name}")
    return found


@functools.lru_cache(maxsize=None)
def _graph(folders: tuple[str, ...] = (PACKAGE,)) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(edges between the modules under ``folders``, every imported name per module)."""
    modules = _modules(folders)
    inner, every = {}, {}
    for name, path in modules.items():
        targets = _imports(name, path, modules)
        every[name] = targets
        inner[name] = {t for t in targets if t in modules and t != name}
        # importing ``a.b.c`` runs ``a.b`` (its __init__) first: not an edge to report as a circle
    return inner, every


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component with more than one module (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_the_checker_sees_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_in_data_access():
    edges, _ = _graph()
    assert "data_access.queries.exits" in edges and "data_access.rules" in edges  # the graph was read
    assert _cycles(edges) == []


def test_data_access_never_imports_streamlit():
    _, every = _graph()
    offenders = {m: sorted(t for t in targets if t.split(".")[0] == "streamlit")
                 for m, targets in every.items()}
    assert {m: t for m, t in offenders.items() if t} == {}


def test_summary_and_rules_import_no_query():
    edges, _ = _graph()
    for name, targets in edges.items():
        if name.startswith(("data_access.summary", "data_access.rules")):
            assert not [t for t in targets if t.startswith("data_access.queries")], name


def test_query_subjects_import_no_other_subject():
    """A query module imports rules, summary and queries.common, never another subject's module."""
    edges, _ = _graph()
    shared = {"data_access.queries", "data_access.queries.common"}
    for name, targets in edges.items():
        if name.startswith("data_access.queries.") and name not in shared:
            assert not [t for t in targets if t.startswith("data_access.queries") and t not in shared], name


PRODUCT = ("data_access", "components", "pages", "app.py", "serve.py")


def _layer(module: str) -> int | None:
    top = module.split(".")[0]
    return LAYERS.index(top) if top in LAYERS else None


def test_the_layer_rule_sees_an_upward_import():
    assert _layer("components.widgets") == 1 and _layer("pages.funds") == 2 and _layer("serve") is None
    assert _layer("data_access.rules") < _layer("components.data")


def test_no_import_cycle_in_the_product():
    edges, _ = _graph(PRODUCT)
    assert "components.widgets" in edges and "pages.overview" in edges and "app" in edges  # the graph was read
    assert _cycles(edges) == []


def test_imports_run_one_way():
    """data_access → components → pages → app.py: nothing imports a layer above its own."""
    _, every = _graph(PRODUCT)
    upward = {}
    for name, targets in every.items():
        own = _layer(name)
        if own is None:
            continue
        up = sorted(t for t in targets if (_layer(t) or 0) > own and t.split(".")[0] in LAYERS)
        if up:
            upward[name] = up
    assert upward == {}
