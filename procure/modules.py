"""Discovery of the domain modules (``procure/<module>/``), so that a new module plugs in
by existing: its ``models.py`` is imported for the metadata, its ``views.py`` ``bp`` is
registered, its ``demo.py`` extends the demo data. No central list to edit."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from types import ModuleType

PACKAGE_DIR = Path(__file__).resolve().parent


def module_names() -> list[str]:
    """The domain packages under procure/, sorted."""
    return sorted(m.name for m in pkgutil.iter_modules([str(PACKAGE_DIR)]) if m.ispkg)


def submodules(name: str) -> list[ModuleType]:
    """``procure.<pkg>.<name>`` for every domain package that has it."""
    found = []
    for pkg in module_names():
        if (PACKAGE_DIR / pkg / f"{name}.py").exists():
            found.append(importlib.import_module(f"procure.{pkg}.{name}"))
    return found
