"""Module discovery finds a part of a module as a file or as a package."""

from __future__ import annotations

import sys
import textwrap

import pytest

from procure.modules import submodules

PARTS = ["models", "services", "views", "demo", "cli", "queries", "reminders", "worklists"]


def _write(path, text=""):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))


@pytest.fixture()
def fake_package(tmp_path, monkeypatch):
    """A throw-away ``fakeproc`` package: module ``alpha`` has every part as a file,
    module ``beta`` every part as a package (``beta/models/`` holds a table in a
    sub-file), module ``gamma`` has none."""
    root = tmp_path / "fakeproc"
    _write(root / "__init__.py")
    _write(root / "base.py", """
        import sqlalchemy as sa
        from sqlalchemy.orm import DeclarativeBase

        class Base(DeclarativeBase):
            metadata = sa.MetaData()
    """)
    for part in PARTS:
        _write(root / "alpha" / f"{part}.py", f"WHERE = 'alpha.{part}'\n")
        _write(root / "beta" / part / "__init__.py", f"WHERE = 'beta.{part}'\n")
    _write(root / "alpha" / "__init__.py")
    _write(root / "beta" / "__init__.py")
    _write(root / "gamma" / "__init__.py")
    _write(root / "beta" / "models" / "__init__.py", """
        from .widgets import Widget  # noqa: F401
        WHERE = 'beta.models'
    """)
    _write(root / "beta" / "models" / "widgets.py", """
        from sqlalchemy.orm import Mapped, mapped_column
        from ...base import Base

        class Widget(Base):
            __tablename__ = "widgets"
            id: Mapped[int] = mapped_column(primary_key=True)
    """)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield root
    for name in [n for n in sys.modules if n == "fakeproc" or n.startswith("fakeproc.")]:
        del sys.modules[name]


@pytest.mark.parametrize("part", PARTS)
def test_a_part_is_found_as_a_file_or_a_package(fake_package, part):
    found = submodules(part, package="fakeproc", package_dir=fake_package)
    assert [m.WHERE for m in found] == [f"alpha.{part}", f"beta.{part}"]


def test_a_models_package_brings_its_tables(fake_package):
    submodules("models", package="fakeproc", package_dir=fake_package)
    base = sys.modules["fakeproc.base"]
    assert "widgets" in base.Base.metadata.tables


def test_the_real_modules_are_found():
    names = {m.__name__ for m in submodules("models")}
    assert {"procure.calendar.models", "procure.budgets.models", "procure.auth.models"} <= names
