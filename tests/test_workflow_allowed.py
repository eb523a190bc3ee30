"""The allowed events read without a machine (`review_engine.workflow.allowed`) are the
machine's own `enabled_events()`, for every state and every combination of what the guards
read: whether the partners were informed, which advance copies went out, whether actions
are outstanding."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from review_engine import workflow
from review_engine.timeline import ADVANCE_COPY_RECIPIENTS, AdvanceCopies, CaseTimeline
from review_engine.workflow.allowed import _condition, allowed_for
from review_engine.workflow.machine import CaseRecord, ReviewWorkflow

AWARE = date(2026, 6, 1)


@st.composite
def cases(draw: st.DrawFn) -> CaseRecord:
    informed = draw(st.booleans())
    sent = draw(st.lists(st.sampled_from(ADVANCE_COPY_RECIPIENTS), unique=True))
    copies = (AdvanceCopies(sent_on=date(2026, 9, 1), recipients=tuple(sent)),) if sent else ()
    timeline = CaseTimeline(
        aware_on=AWARE,
        partners_informed_on=date(2026, 6, 2) if informed else None,
        advance_copies=copies,
    )
    outstanding = tuple(draw(st.lists(st.uuids().map(str), max_size=2)))
    return CaseRecord(
        state=draw(st.sampled_from(workflow.STATES)),
        timeline=timeline,
        outstanding_actions=outstanding,
    )


def enabled_by_the_machine(case: CaseRecord) -> list[str]:
    machine = ReviewWorkflow(model=CaseRecord(case.state, case.timeline, case.outstanding_actions))
    enabled = {event.id for event in machine.enabled_events()}
    return [event for event in workflow.EVENTS if event in enabled]


@given(cases())
def test_the_allowed_events_are_the_machines_enabled_events(case: CaseRecord) -> None:
    assert allowed_for(case) == enabled_by_the_machine(case)
    assert workflow.allowed_events(
        state=case.state, timeline=case.timeline, outstanding_actions=case.outstanding_actions
    ) == enabled_by_the_machine(case)


def test_the_guards_decide_publish_close_and_inform_partners() -> None:
    """The three guarded events, each way, so a reader that ignored guards would fail."""
    plain = CaseTimeline(aware_on=AWARE)
    every_copy = AdvanceCopies(sent_on=date(2026, 9, 1), recipients=ADVANCE_COPY_RECIPIENTS)
    sent = plain.model_copy(update={"advance_copies": (every_copy,)})
    informed = plain.model_copy(update={"partners_informed_on": date(2026, 6, 2)})

    assert "publish" not in allowed_for(CaseRecord("pre_publication", plain))
    assert "publish" in allowed_for(CaseRecord("pre_publication", sent))
    assert "close" in allowed_for(CaseRecord("action_tracking", plain))
    assert "close" not in allowed_for(CaseRecord("action_tracking", plain, ("an-action",)))
    assert "inform_partners" in allowed_for(CaseRecord("lcspr", plain))
    assert "inform_partners" not in allowed_for(CaseRecord("lcspr", informed))
    # A routing condition holds without a payload: every route out stays possible.
    assert allowed_for(CaseRecord("referred", plain))[:1] == ["notify_panel"]
    assert allowed_for(CaseRecord("closed", plain)) == []


def test_an_unknown_state_or_a_condition_it_cannot_read_is_an_error() -> None:
    with pytest.raises(workflow.UnknownState):
        workflow.allowed_events(state="archived", timeline=CaseTimeline(aware_on=AWARE))
    with pytest.raises(ValueError, match="unsupported transition condition"):
        _condition("partners_informed and advance_copies_sent")
    with pytest.raises(AttributeError):
        _condition("no_such_guard")
