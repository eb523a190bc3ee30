"""Describing the workflow: `describe()`, the payload schemas, the Mermaid diagram and
docs/workflow.md (which must match what `python -m review_engine.workflow` writes).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from review_engine.workflow import (
    EVENTS,
    FINAL_STATES,
    STATES,
    WorkflowError,
    describe,
    mermaid,
    payload_schema,
    render_docs,
)

DOCS = Path(__file__).resolve().parents[1] / "docs" / "workflow.md"


# -- Describing the workflow --------------------------------------------------------------


def test_describe_lists_states_events_transitions_and_schemas() -> None:
    description = describe()
    json.dumps(description)  # it is served as JSON

    assert [s["name"] for s in description["states"]] == list(STATES)
    assert {s["name"] for s in description["states"] if s["initial"]} == {"referred"}
    assert {s["name"] for s in description["states"] if s["final"]} == FINAL_STATES

    events = {e["name"]: e for e in description["events"]}
    assert list(events) == list(EVENTS)
    assert events["record_panel_response"]["transitions"] == [
        {"source": "awaiting_panel", "target": target}
        for target in [
            "rapid_review",
            "national_review",
            "lcspr",
            "learning_review",
            "action_tracking",
        ]
    ]
    assert events["close"]["transitions"] == [
        {"source": "action_tracking", "target": "closed"},
        {"source": "not_notified", "target": "closed"},
    ]
    for name, event in events.items():
        assert event["payload_schema"] == payload_schema(name).model_json_schema()


@pytest.mark.parametrize("event", EVENTS)
def test_every_payload_schema_forbids_extras_and_describes_each_field(event: str) -> None:
    schema = payload_schema(event).model_json_schema()
    assert schema["additionalProperties"] is False
    assert schema["description"]
    for field, spec in schema["properties"].items():
        assert spec.get("description"), f"{event}.{field} has no description"


def test_payload_schema_of_an_unknown_event_is_a_workflow_error() -> None:
    with pytest.raises(WorkflowError, match="'explode'"):
        payload_schema("explode")


def test_mermaid_diagram_shows_states_and_routed_transitions() -> None:
    diagram = mermaid()
    assert diagram.startswith("stateDiagram-v2")
    for state in STATES:
        assert f" as {state}" in diagram
    assert "referred --> closed : Notify panel [!rapid_review_required]" in diagram
    assert "pre_publication --> action_tracking : Publish [advance_copies_sent]" in diagram


def test_docs_workflow_md_is_up_to_date() -> None:
    expected = render_docs()
    actual = DOCS.read_text(encoding="utf-8") if DOCS.exists() else ""
    assert actual == expected, (
        "docs/workflow.md is out of date with review_engine.workflow; regenerate it with:\n"
        "    python -m review_engine.workflow > docs/workflow.md"
    )


def test_rendered_docs_hold_the_diagram_and_the_transition_table() -> None:
    docs = render_docs()
    assert "```mermaid\n" + mermaid().strip() + "\n```" in docs
    rows = [[cell.strip() for cell in line.split("|")[1:-1]] for line in docs.splitlines()]
    assert ["Pre-publication", "Publish", "advance_copies_sent", "Action tracking"] in rows


def test_running_the_module_writes_the_docs_to_stdout() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "review_engine.workflow"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout == render_docs()
