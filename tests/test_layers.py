"""The domain packages under procure/ depend on each other ONE way, with imports at module
top level. Read from the source with ``ast`` (nothing is imported), so a later change cannot
bring a cycle back, or hide one behind an import inside a function.

:data:`LAYERS` is the allowed order, lowest first: a package may import only packages
that come before it. The core (``procure/*.py``) sits below all of them and imports none,
except the two places that assemble the app: the factory (``__init__``) and the demo."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

PROCURE = Path(__file__).resolve().parent.parent / "procure"

#: Lowest first. Notifications is below auth (not beside documents and jobs): auth sends
#: its invitations and password resets through ``notify()``, and notifications needs no
#: user model (recipients are passed in; its tables name ``users`` by string).
LAYERS = [
    "notifications",
    "auth",
    "documents",
    "jobs",
    "reminders",  # the generic engine; rules live in the modules that own them
    "calendar",
    "organizations",
    "budgets",
    "projects",
    "tenders",
    "contracts",
    "delivery",  # milestone reports and spending (issue 11)
    "acceptance",  # acceptance and performance evaluation
    "payments",  # payments follow approved reports and passed acceptances
    "archive",  # closing and the archive read every delivery table (issue 11)
    "portal",  # the public portal reads tenders; nothing imports it
    "reports",
    "dashboard",
    "admin",
]

#: Core modules that assemble the app from the domain packages (they sit on top).
ASSEMBLY = {"__init__.py", "demo.py"}


def _packages(root: Path) -> set[str]:
    return {p.name for p in root.iterdir() if p.is_dir() and (p / "__init__.py").is_file()}


def _absolute(node: ast.ImportFrom, module_parts: tuple[str, ...], is_package: bool) -> list[str]:
    """The absolute dotted names an ``import from`` reaches (``procure.x.y``), one per
    imported name when the module part is a package (``from .. import budgets``)."""
    if node.level == 0:
        base = node.module or ""
    else:
        here = list(module_parts if is_package else module_parts[:-1])
        here = here[:len(here) - (node.level - 1)]
        base = ".".join(here + ([node.module] if node.module else []))
    if node.module:
        return [base]
    return [f"{base}.{alias.name}" for alias in node.names]


def imports(root: Path) -> list[tuple[str | None, str, bool, str]]:
    """(source package or None for core, target package, at top level?, where) for each
    import of a domain package under ``root``, from anywhere under ``root``."""
    pkgs = _packages(root)
    name = root.name
    out = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        parts = (name, *rel.with_suffix("").parts)
        is_package = rel.name == "__init__.py"
        if is_package:
            parts = parts[:-1]
        source = rel.parts[0] if len(rel.parts) > 1 else None
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        inner = set()
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                inner.update(id(n) for n in ast.walk(fn) if n is not fn)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                targets = _absolute(node, parts, is_package)
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                continue
            for target in targets:
                bits = target.split(".")
                if len(bits) < 2 or bits[0] != name or bits[1] not in pkgs or bits[1] == source:
                    continue
                out.append((source, bits[1], id(node) not in inner, f"{rel}:{node.lineno}"))
    return out


def problems(root: Path, layers: list[str], assembly: set[str]) -> list[str]:
    """Every import that breaks the order, every cycle, and every import of a sibling
    package inside a function."""
    pkgs = _packages(root)
    rank = {p: i for i, p in enumerate(layers)}
    found = [f"{p}: not in the allowed order (add it to LAYERS)" for p in sorted(pkgs - set(rank))]
    edges: dict[str, set[str]] = {}
    for source, target, top, where in imports(root):
        if source is None:
            if where.rsplit(":", 1)[0] not in assembly:
                found.append(f"{where}: the core imports the domain package {target}")
            elif not top:
                found.append(f"{where}: {target} imported inside a function")
            continue
        edges.setdefault(source, set()).add(target)
        if not top:
            found.append(f"{where}: {source} imports {target} inside a function")
        if source in rank and target in rank and rank[target] >= rank[source]:
            found.append(f"{where}: {source} imports {target}, which comes after it in the order")
    # Cycles, named (the order already forbids them; this says which packages loop).
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                found.append("cycle: " + " -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    return found


def test_domain_packages_depend_one_way_at_top_level():
    assert problems(PROCURE, LAYERS, ASSEMBLY) == []


# --- the checker itself can fail -------------------------------------------------------


def _write(path: Path, text: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))


@pytest.fixture()
def fake(tmp_path):
    root = tmp_path / "fakeproc"
    _write(root / "__init__.py", "from .low import models\n")
    _write(root / "core.py", "X = 1\n")
    _write(root / "low" / "__init__.py")
    _write(root / "low" / "models.py", "from ..core import X\n")
    _write(root / "high" / "__init__.py")
    _write(root / "high" / "views.py", "from ..low.models import X\nfrom fakeproc import low\n")
    return root


def test_checker_passes_a_clean_tree(fake):
    assert problems(fake, ["low", "high"], {"__init__.py"}) == []


def test_checker_finds_a_cycle_and_the_wrong_direction(fake):
    _write(fake / "low" / "services.py", "from ..high import views\n")
    found = problems(fake, ["low", "high"], {"__init__.py"})
    assert any("low imports high, which comes after it" in p for p in found)
    assert any(p.startswith("cycle: ") and "high" in p and "low" in p for p in found)


def test_checker_finds_an_import_inside_a_function(fake):
    _write(fake / "high" / "services.py", """
        def f():
            from ..low import models
            return models
    """)
    assert problems(fake, ["low", "high"], {"__init__.py"}) == [
        "high/services.py:3: high imports low inside a function"]


def test_checker_finds_the_core_importing_a_domain_package_and_an_unknown_package(fake):
    _write(fake / "core.py", "from .high import views\n")
    _write(fake / "new" / "__init__.py")
    found = problems(fake, ["low", "high"], {"__init__.py"})
    assert "core.py:1: the core imports the domain package high" in found
    assert "new: not in the allowed order (add it to LAYERS)" in found
