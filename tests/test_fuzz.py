"""An independent API fuzzer (schemathesis) against the running app, on SQLite and
PostgreSQL: every check, every phase (examples, coverage, fuzzing, stateful), configured by
the committed schemathesis.toml (each departure from its defaults gives its reason).

The seed is fixed so CI is reproducible; set `FUZZ_SEED` (and `FUZZ_MAX_EXAMPLES`) to
explore further. The figures (operations, generated cases, failures per check) appear in
the run's summary.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED = os.environ.get("FUZZ_SEED", "20261128")
MAX_EXAMPLES = os.environ.get("FUZZ_MAX_EXAMPLES", "25")


def test_the_fuzzer_finds_no_failure(
    demo_url: str,
    make_key: Callable[..., str],
    tmp_path: Path,
    database_url: str,
    note_figures: Callable[[str], None],
) -> None:
    backend = "postgres" if database_url.startswith("postgresql") else "sqlite"
    report = tmp_path / f"fuzz-report-{backend}.json"
    env = {
        **os.environ,
        "FUZZ_API_KEY": make_key(role="admin", name="fuzzer"),
        "FUZZ_PARTNERSHIP": "wessex-vale",  # a demo partnership new cases may name
        "PYTHONPATH": str(ROOT),  # the hooks module, tests.fuzz_hooks
    }
    command = [
        str(Path(sys.executable).with_name("st")),
        "--config-file",
        str(ROOT / "schemathesis.toml"),
        "run",
        f"{demo_url}/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        MAX_EXAMPLES,
        "--seed",
        SEED,
        "--workers",
        "1",
        "--no-color",
        "--generation-database",
        "none",
        "--report",
        "json",
        "--report-json-path",
        str(report),
    ]
    result = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=480
    )
    summary = json.loads(report.read_text()) if report.exists() else {}
    failures = Counter(failure.get("check", "?") for failure in summary.get("failures", []))
    note_figures(
        f"fuzzer on {backend}: seed {SEED}, "
        f"{summary.get('operations', {}).get('tested')} operations, "
        f"{summary.get('test_cases', {}).get('generated')} generated cases, "
        f"failures per check: {dict(failures) or 'none'}"
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert summary["operations"]["tested"] == summary["operations"]["total"]
    assert all(phase["status"] == "success" for phase in summary["phases"].values())
