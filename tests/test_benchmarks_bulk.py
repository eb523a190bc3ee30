"""The list benchmark's bulk generator (benchmarks/bulk.py) writes exactly what the service
writes: for each of its shapes, one case made through the API and one stamped in bulk are
compared row by row, on both databases (`lists.check`). Its 1M-case figures in
docs/performance.md are only worth reading while this holds, so a change to what the
service stores fails here until bulk.py follows it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import bulk  # noqa: E402  (benchmarks/ is scripts, not a package)
import lists  # noqa: E402


def test_bulk_rows_are_the_services_rows_for_every_shape(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert lists.check(database_url) == 0, capsys.readouterr().out
    compared = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in compared] == [shape.name for shape in bulk.SHAPES]
    assert all(line.split()[1] == "same:" for line in compared)
