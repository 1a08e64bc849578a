"""A registry file with a NUL byte or another control character in a cell: the row is
reported with its line number, like any bad row; nothing reaches the database (which
refuses NUL with an error on PostgreSQL)."""

from __future__ import annotations

import pytest

from .test_import import run, sample_rows, snapshot, to_csv


@pytest.mark.parametrize("bad", ["\x00", "\x1b", "\x7f"])
def test_control_character_in_a_cell_is_a_bad_row(app, db, bad):
    rows = sample_rows()
    rows[-1][1] = rows[-1][1][:2] + bad + rows[-1][1][2:]  # the name on the last line
    data = to_csv(rows)
    assert b"\x00" not in data[:4096] or bad != "\x00"  # past the binary-file sniff
    result = run(app, data)
    assert not result.applied and snapshot(db) == []
    assert [e.line for e in result.errors] == [len(rows)]
    assert "控制字符" in str(result.errors[0].message)
    result = run(app, data, only_good=True)  # the good rows go in, the bad one does not
    assert result.applied and len(snapshot(db)) == len(rows) - 2
