"""Discovery of the domain modules (``procure/<module>/``), so that a new module plugs in
by existing: its ``models`` are imported for the metadata, its ``views`` ``bp`` is
registered, its ``demo`` extends the demo data. No central list to edit.

A part of a module (``models``, ``services``, ``views``, ``demo``, ``cli``, ``queries``,
``reminders``, ``worklists``)
may be one file (``models.py``) or a package (``models/__init__.py``) once it grows:
both are found, so a package is never skipped silently (its tables included)."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from types import ModuleType

PACKAGE = "procure"
PACKAGE_DIR = Path(__file__).resolve().parent


def module_names(package_dir: Path = PACKAGE_DIR) -> list[str]:
    """The domain packages under ``package_dir``, sorted."""
    return sorted(m.name for m in pkgutil.iter_modules([str(package_dir)]) if m.ispkg)


def has_part(module_dir: Path, name: str) -> bool:
    """Whether a module directory holds ``name`` as a file or as a package."""
    return (module_dir / f"{name}.py").is_file() or (module_dir / name / "__init__.py").is_file()


def submodules(name: str, *, package: str = PACKAGE, package_dir: Path = PACKAGE_DIR) -> list[ModuleType]:
    """``<package>.<module>.<name>`` for every domain module that has it, as a file or a
    package."""
    return [importlib.import_module(f"{package}.{module}.{name}")
            for module in module_names(package_dir) if has_part(package_dir / module, name)]


def view_modules(*, package: str = PACKAGE, package_dir: Path = PACKAGE_DIR) -> list[ModuleType]:
    """Every module's ``views`` and, beside it, any ``<part>_views.py`` file that defines
    a blueprint ``bp`` (a module whose pages grew in separate parts), sorted."""
    found = submodules("views", package=package, package_dir=package_dir)
    for module in module_names(package_dir):
        for path in sorted((package_dir / module).glob("*_views.py")):
            part = importlib.import_module(f"{package}.{module}.{path.stem}")
            if hasattr(part, "bp"):
                found.append(part)
    return found
