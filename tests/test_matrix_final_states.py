"""Final states accept nothing (reliability.md §7 scenario 5): a `closed` or `withdrawn` case
refuses every event the app's routes offer (409, no writes). See tests/matrix/ for the
machinery and the journeys (in the cases domain's table).
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from fastapi import FastAPI
from sqlmodel import Session

from review_engine import workflow
from tests.matrix.core import changed_tables, endpoints, problem_issues, sample_call, send, snapshot
from tests.matrix.domains.cases import TERMINAL_JOURNEYS, event_of
from tests.matrix.world import World, world

__all__ = ["world"]  # the fixture (pytest finds it here)


def test_every_final_state_has_a_journey() -> None:
    reached = {journey[-1][2] for journey in TERMINAL_JOURNEYS.values()}
    assert reached == set(workflow.FINAL_STATES) == {"closed", "withdrawn"}


# The first journey to each final state also tries a dry run with no payload and no
# If-Match. (Refusal depends on the state alone: a final state has no transitions.)
_DRY_RUN_JOURNEYS = {"closed-after-published-lcspr", "withdrawn-awaiting-panel"}


@pytest.mark.parametrize("journey", list(TERMINAL_JOURNEYS))
def test_a_case_in_a_final_state_refuses_every_event(
    world: World, app: FastAPI, session: Session, journey: str
) -> None:
    case = world.drive(TERMINAL_JOURNEYS[journey])
    final = case["state"]
    assert final in workflow.FINAL_STATES
    assert case["allowed_events"] == []
    shown, history = world.read(case["id"])
    events = [e for e in endpoints(app) if event_of(e) is not None]
    before = snapshot(session)
    mismatches = []
    for endpoint in events:
        valid = sample_call(endpoint, case_id=case["id"], if_match=case["_etag"])
        variants = [valid]  # a well-formed payload, with the current ETag
        if journey in _DRY_RUN_JOURNEYS:
            variants.append(replace(valid, body={}, params={"dry_run": "true"}))
        for call in variants:
            response = send(world.api, call, world.key("admin"))
            issues = problem_issues(response, 409)
            if not issues:
                problem = response.json()
                if problem["type"] != "/problems/transition-not-allowed":
                    issues.append(f"type {problem['type']}")
                if problem.get("allowed_events") != []:
                    issues.append(f"allowed_events {problem.get('allowed_events')}")
                if problem.get("state") != final:
                    issues.append(f"state {problem.get('state')}")
            if issues:
                mismatches.append(f"{call}: {issues}\n    {response.text[:300]}")
    assert not mismatches, "\n".join(mismatches)
    assert changed_tables(before, snapshot(session)) == []
    assert world.read(case["id"]) == (shown, history)
