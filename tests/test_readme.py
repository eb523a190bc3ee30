"""The README's walkthrough works exactly as written, against a live server."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def walkthrough_blocks() -> list[str]:
    section = README.split("<!-- walkthrough:", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)


@pytest.fixture
def live_url(demo_url: str) -> str:
    return demo_url


def test_the_readme_gives_the_two_commands() -> None:
    assert "pip install -e . && review-engine demo run" in README
    assert (
        "pip install --require-hashes -r requirements-test.lock && "
        "pip install --no-deps --no-build-isolation -e . && scripts/test"
    ) in README
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text(encoding="utf-8")
    assert "scripts/test" in ci


def test_the_walkthrough_runs_as_written(
    live_url: str, make_key: Callable[..., str], tmp_path: Path
) -> None:
    blocks = walkthrough_blocks()
    assert len(blocks) >= 6
    key = make_key(role="admin")
    env = {**os.environ, "KEY": key}
    outputs = []
    # Each block runs in one shell, in order, keeping the exports, as a reader would.
    script = ""
    for number, block in enumerate(blocks):
        lines = [line for line in block.splitlines() if not line.startswith("export KEY=")]
        block = "\n".join(lines).replace("http://127.0.0.1:8000", live_url)
        script += f"{block}\necho '@@block-{number}@@'\n"
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    outputs = re.split(r"@@block-\d+@@\n", result.stdout)
    assert '"code":"wessex-vale"' in outputs[1]
    assert '"items":[' in outputs[1]
    assert '"state": "referred"' in outputs[2]
    assert '"state":"rapid_review"' in outputs[3]
    assert "/problems/transition-not-allowed" in outputs[4]
    assert '"state":"awaiting_panel"' in outputs[4]  # the dry run
    assert '"state":"lcspr"' in outputs[5]
    # Six months from the partners' decision on 26 November 2026.
    assert '"start_on":"2026-11-26"' in outputs[5]
    assert '"due_on":"2027-05-26"' in outputs[5]
    assert '"as_of":"2026-12-10"' in outputs[6]
    assert '"action":"event"' in outputs[6]
    # Learning into practice: the demo's agencies, an action on the walkthrough's case.
    assert '"name":"NHS Wessex ICB"' in outputs[7]
    assert '"original_due_on": "2027-03-31"' in outputs[7]
    assert '"status": "open"' in outputs[7]
    # Completed without evidence is refused, naming the field; with evidence it is saved,
    # and the due date moved from 31 March to 28 May 2027 shows as 58 days' slippage.
    assert '"field":"body.evidence_of_completion"' in outputs[8]
    assert '"status":"completed"' in outputs[8]
    assert '"slipped_days":58' in outputs[8]
    # The demo's overdue action, the plan as CSV, and a contribution requested on Monday
    # 23 November 2026: five working days on is Monday 30 November.
    assert '"description":"Audit safe sleep advice in health visiting records"' in outputs[9]
    assert "partnership,case_reference,recommendation_number" in outputs[9]
    assert '"due_on":"2026-11-30","original_due_on":"2026-11-30"' in outputs[9]
    # A webhook subscription: its secret, shown this once; the target without its path.
    assert re.search(r'"secret":"whsec_[A-Za-z0-9+/=]{40,}"', outputs[10])
    assert '"target":"https://alerts.example.org/…"' in outputs[10]
    # The public feed, without a key: the demo's one published review, as JSON and RSS.
    assert '"title":"Child K: learning from a sudden unexpected death in infancy"' in outputs[11]
    assert '"review_type":"lcspr"' in outputs[11]
    assert "<rss" in outputs[11]
    assert "KM-2025-019" not in outputs[11]  # its internal reference is never public
    # The yearly figures for 2026/27, as JSON and as a table with small counts hidden.
    assert '"period":{"from":"2026-04-01","to":"2027-03-31"}' in outputs[12]
    assert '"rapid_reviews":{"submitted":' in outputs[12]
    assert "figure,count\nNotifications: Panel notifications made in the year," in outputs[12]
    assert '<title id="chart-title">Wessex Vale' in outputs[12]  # the chart, saved and shown
    assert (tmp_path / "timeliness.svg").read_text().startswith("<?xml")
    # A calendar feed for Outlook: an iCalendar of the running deadlines, no key needed.
    assert "BEGIN:VCALENDAR" in outputs[13]
    assert "SUMMARY:[wessex-vale] WV-" in outputs[13]
    # The dry run wrote nothing: only the three real events moved the case.
    case_id = json.loads((tmp_path / "case.json").read_text())["id"]
    read = httpx.get(f"{live_url}/cases/{case_id}", headers={"Authorization": f"Bearer {key}"})
    assert (read.json()["state"], read.json()["version"]) == ("lcspr", 4)
    # The overdue list, every page of it, holds no case that has ended: their clocks stopped.
    overdue = httpx.get(
        f"{live_url}/cases?overdue=true&limit=100", headers={"Authorization": f"Bearer {key}"}
    ).json()["items"]
    assert overdue, "the demo always has overdue cases"
    assert {item["state"] for item in overdue}.isdisjoint({"withdrawn", "closed"})


def test_demo_run_serves_the_demo_and_prints_a_working_key(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEW_ENGINE_")}
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from review_engine.cli import app; app()",
            "demo",
            "run",
            "--port",
            str(port),
        ],
        cwd=tmp_path,  # the embedded default: review-engine.db in the working directory
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert server.stdout is not None
        printed = [server.stdout.readline() for _ in range(5)]
        assert f"http://127.0.0.1:{port}" in printed[1]
        key = printed[3].strip().removeprefix("export KEY=")
        assert key.startswith("re_")
        deadline = time.monotonic() + 30
        while True:
            try:
                cases = httpx.get(
                    f"http://127.0.0.1:{port}/cases?limit=100",
                    headers={"Authorization": f"Bearer {key}"},
                )
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "demo server did not start"
                time.sleep(0.2)
        assert cases.status_code == 200
        assert len(cases.json()["items"]) == 15
        assert (tmp_path / "review-engine.db").exists()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        if server.stdout:
            server.stdout.close()
