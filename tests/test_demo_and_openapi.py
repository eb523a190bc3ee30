"""The demo data set loads through the real services, and the committed OpenAPI is current."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from review_engine.app import create_app
from review_engine.cli import app as cli
from review_engine.settings import Settings

REPO = Path(__file__).resolve().parents[1]
Headers = dict[str, str]


def test_committed_openapi_matches_the_app() -> None:
    committed = json.loads((REPO / "openapi" / "openapi.json").read_text(encoding="utf-8"))
    current = create_app(Settings(_env_file=None, database_url="sqlite://")).openapi()  # type: ignore[call-arg]
    assert committed == current, "openapi/openapi.json is stale: run `review-engine openapi export`"


def test_openapi_documents_every_workflow_event() -> None:
    document = create_app(Settings(_env_file=None, database_url="sqlite://")).openapi()  # type: ignore[call-arg]
    publish = document["paths"]["/cases/{case_id}/events/publish"]["post"]
    schema = publish["requestBody"]["content"]["application/json"]["schema"]
    assert set(schema["required"]) == {"published_on", "mode", "url", "title"}
    assert "412" in publish["responses"]
    assert "428" in publish["responses"]


def test_demo_load_spreads_cases_over_the_stages(
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    client: TestClient,
    make_key: Callable[..., str],
    auth: Callable[[str], Headers],
) -> None:
    monkeypatch.setenv("REVIEW_ENGINE_DATABASE_URL", database_url)
    runner = CliRunner()
    first = runner.invoke(cli, ["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "2 partnership(s) and 15 case(s) added" in first.output
    again = runner.invoke(cli, ["demo", "load"])
    assert "0 partnership(s) and 0 case(s) added" in again.output
    admin = auth(make_key(role="admin"))
    cases = client.get("/cases", params={"limit": 100}, headers=admin).json()["items"]
    assert Counter(case["partnership"] for case in cases) == {"wessex-vale": 8, "kingsmere": 7}
    states = {case["state"] for case in cases}
    assert states >= {
        "referred",
        "rapid_review",
        "awaiting_panel",
        "lcspr",
        "lcspr_paused",
        "pre_publication",
        "action_tracking",
        "learning_review",
        "not_notified",
        "national_review",
        "closed",
        "withdrawn",
    }
    statuses = Counter(d["status"] for case in cases for d in case["deadlines"])
    assert statuses["overdue"] >= 3
    assert statuses["pending"] >= 1
    overdue = client.get("/cases", params={"overdue": "true"}, headers=admin).json()["items"]
    assert len(overdue) >= 3
