"""The workflow drawn for one case (`GET /cases/{id}/diagram`): the whole machine as
docs/workflow.md draws it, with the states the case's history went through marked
`visited`, the one it is in now `active`, and the path in words for screen readers."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from review_engine import workflow
from tests.actions_helpers import assert_problem
from tests.cases_helpers import create, fire

Headers = dict[str, str]

# Notified Wed 3 Jun 2026, sent Fri 19 Jun, challenged Wed 1 Jul, sent again Fri 10 Jul,
# agreed as an LCSPR Wed 22 Jul.
CHALLENGED_THEN_AGREED = [
    ("notify_panel", {"notified_on": "2026-06-03"}),
    ("submit_rapid_review", {"submitted_on": "2026-06-19", "recommendation": "lcspr"}),
    ("record_panel_response", {"received_on": "2026-07-01", "outcome": "challenged"}),
    ("submit_rapid_review", {"submitted_on": "2026-07-10", "recommendation": "lcspr"}),
    ("record_panel_response", {"received_on": "2026-07-22", "outcome": "agreed"}),
]


def test_a_case_diagram_marks_its_path_and_where_it_is(
    client: TestClient, wessex_admin: Headers
) -> None:
    case = create(client, wessex_admin, reference="WX-DIAGRAM-1")
    for event, payload in CHALLENGED_THEN_AGREED:
        case = fire(client, wessex_admin, case, event, payload)
    response = client.get(f"/cases/{case['id']}/diagram", headers=wessex_admin)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/vnd.mermaid; charset=utf-8"
    drawn = response.text.splitlines()
    assert drawn[0] == "stateDiagram-v2"
    assert "    accTitle: Workflow of case WX-DIAGRAM-1" in drawn
    assert (
        "    accDescr: Path so far: Referred → Rapid review → Awaiting Panel response → "
        "Rapid review → Awaiting Panel response → LCSPR. Now: LCSPR."
    ) in drawn
    # Every state and transition of the machine, as the workflow's own diagram draws them.
    whole = [line for line in workflow.mermaid().splitlines() if line.strip()]
    assert [line for line in whole if line not in drawn] == []
    assert [line for line in drawn if line.endswith(":::active")] == ["    lcspr:::active"]
    visited = [line.strip() for line in drawn if line.endswith(":::visited")]
    assert visited == ["referred:::visited", "rapid_review:::visited", "awaiting_panel:::visited"]


def test_a_new_case_is_only_where_it_starts_and_others_cannot_see_it(
    client: TestClient,
    wessex_admin: Headers,
    make_key: Callable[..., str],
    auth: Callable[[str], Headers],
) -> None:
    case = create(client, wessex_admin, reference="WX-DIAGRAM-2")
    drawn = client.get(f"/cases/{case['id']}/diagram", headers=wessex_admin).text.splitlines()
    assert "    accDescr: Path so far: Referred. Now: Referred." in drawn
    assert [line for line in drawn if ":::" in line] == ["    referred:::active"]
    made = client.post("/partnerships", json={"code": "mercia", "name": "M"}, headers=wessex_admin)
    assert made.status_code == 201
    outsider = auth(make_key(role="viewer", partnerships=["mercia"]))
    assert_problem(client.get(f"/cases/{case['id']}/diagram", headers=outsider), 404)
