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
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from sqlmodel import Session

from review_engine.db import create_db_engine
from review_engine.deadline_context import clock_context
from review_engine.demo import load_demo
from review_engine.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SEED = os.environ.get("FUZZ_SEED", "20261128")
MAX_EXAMPLES = os.environ.get("FUZZ_MAX_EXAMPLES", "25")


@pytest.fixture
def live_url(app: FastAPI, settings: Settings) -> Iterator[str]:
    """The app served by uvicorn on a free loopback port, over the demo data."""
    engine = create_db_engine(settings.database_url)
    with Session(engine) as session:
        load_demo(session=session, context=clock_context(settings))
    engine.dispose()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    server.should_exit = True
    thread.join(timeout=10)


def test_the_fuzzer_finds_no_failure(
    live_url: str,
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
        f"{live_url}/openapi.json",
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
