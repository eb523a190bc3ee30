""" "As of" is a replay: deadlines as of a day are those the case had if you had asked then.

The property test drives random cases through the workflow with dated events, picks a day
D, and compares the deadlines as of D computed from the whole timeline with those computed
from a case built by firing only the events (and recording only the waivers) dated on or
before D. The two are built independently: one through `CaseTimeline.as_of`, the other
through the workflow itself.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from review_engine.clocks import WAIVABLE_CLOCKS, compute_deadlines
from review_engine.timeline import (
    DATED_FIELDS,
    ITEMISED_FIELDS,
    TIMELESS_FIELDS,
    CaseTimeline,
    Waiver,
)
from review_engine.workflow import FINAL_STATES, IllegalEvent, InvalidEventData, fire
from tests.workflow_helpers import AWARE_ON, INCIDENT


def test_every_timeline_field_is_either_dated_itemised_or_timeless() -> None:
    """A new field must say how "as of" treats it, or the replay would silently keep it."""
    dated = set(DATED_FIELDS) | {c for companions in DATED_FIELDS.values() for c in companions}
    assert dated | ITEMISED_FIELDS | TIMELESS_FIELDS == set(CaseTimeline.model_fields)
    assert not (dated & ITEMISED_FIELDS) - {"reschedules"}  # cut with the approval too
    assert not dated & TIMELESS_FIELDS


def test_as_of_keeps_what_was_recorded_by_the_end_of_the_day() -> None:
    timeline = CaseTimeline(
        aware_on=AWARE_ON,
        notified_on=date(2026, 1, 7),
        rapid_review_required=True,
        submitted_on=date(2026, 1, 20),
        recommendation="lcspr",
    )
    assert timeline.as_of(date(2026, 1, 20)) == timeline
    assert timeline.as_of(date(2026, 1, 19)) == timeline.model_copy(
        update={"submitted_on": None, "recommendation": None}
    )
    assert timeline.as_of(date(2026, 1, 1)) == CaseTimeline(aware_on=AWARE_ON)


Step = tuple[str, dict[str, Any]]


def _script(data: st.DataObject) -> list[Step]:
    """A plausible life of a case, as events with `None` for "this event's day"; routes and
    optional events drawn at random, cut short at a random point."""
    draw = data.draw
    reason = "Criminal trial"
    script: list[Step] = []
    if draw(st.integers(0, 9)) == 0:
        script.append(("decide_not_to_notify", {"decided_on": None, "reason": reason}))
        ending = draw(st.sampled_from(["close", "learning", "renotify"]))
        if ending == "close":
            return [*script, ("close", {"closed_on": None})]
        if ending == "learning":
            return [
                *script,
                ("start_learning_review", {"started_on": None}),
                ("complete_learning_review", {"completed_on": None}),
            ]
    notify: dict[str, Any] = {"notified_on": None}
    if script:
        notify["new_information_on"] = None
    if draw(st.integers(0, 9)) == 0:
        return [*script, ("notify_panel", {**notify, "rapid_review_required": False})]
    script.append(("notify_panel", notify))
    if draw(st.integers(0, 9)) == 0:
        return [*script, ("withdraw", {"withdrawn_on": None, "reason": reason})]
    route = draw(st.sampled_from(["lcspr", "lcspr", "lcspr", "learning_review", "national"]))
    submit = {"submitted_on": None, "recommendation": "lcspr" if route == "national" else route}
    script.append(("submit_rapid_review", submit))
    if draw(st.booleans()):
        script.append(("record_panel_response", {"received_on": None, "outcome": "challenged"}))
        script.append(("submit_rapid_review", submit))
    outcome = "national_review" if route == "national" else "agreed"
    script.append(("record_panel_response", {"received_on": None, "outcome": outcome}))
    if route == "national":
        return [*script, ("complete_national_review", {"completed_on": None})]
    if route == "learning_review":
        return [*script, ("complete_learning_review", {"completed_on": None})]
    for _ in range(draw(st.integers(0, 2))):
        script.append(("pause", {"started_on": None, "reason": reason, "panel_informed_on": None}))
        script.append(("resume", {"resumed_on": None}))
    if draw(st.integers(0, 9)) == 0:
        return [*script, ("escalate_to_national_review", {"decided_on": None})]
    script.append(("approve_final_report", {"approved_on": None, "planned_publication_on": 60}))
    for _ in range(draw(st.integers(0, 2))):
        told = {"panel_informed_on": None} if draw(st.booleans()) else {}
        move = {"rescheduled_on": None, "planned_publication_on": 60, "reason": reason}
        script.append(("reschedule_publication", {**move, **told}))
    # The recipients of each sending (None: all three); none sent, or never complete, too.
    sendings: list[list[list[str] | None]] = [
        [],
        [None],
        [["panel", "secretary_of_state"], ["ofsted"]],
        [["panel"], None],
        [["panel"]],
    ]
    for recipients in draw(st.sampled_from(sendings)):
        extra = {} if recipients is None else {"recipients": recipients}
        script.append(("send_advance_copies", {"sent_on": None, **extra}))
    if draw(st.integers(0, 4)) == 0:
        script.append(("withhold_publication", {"reason": reason, "panel_informed_on": None}))
    else:
        publication = {"url": "https://example.org/r", "title": "Child T", "mode": "full"}
        script.append(("publish", {"published_on": None, **publication}))
    return [*script, ("close", {"closed_on": None})]


def _dated(step: Step, day: date) -> Step:
    """The step with its dates filled in: `None` is the day, a number that many days on."""
    event, payload = step
    dated = {
        name: (
            day.isoformat()
            if value is None
            else (day + timedelta(days=value)).isoformat()
            if isinstance(value, int) and not isinstance(value, bool)
            else value
        )
        for name, value in payload.items()
    }
    return event, dated


def _fire(state: str, timeline: CaseTimeline, step: Step) -> Any:
    event, payload = step
    return fire(state=state, timeline=timeline, event=event, payload=payload, incident=INCIDENT)


def _replay(steps: list[Step], waivers: dict[str, Waiver]) -> CaseTimeline:
    state, timeline = "referred", CaseTimeline(aware_on=AWARE_ON)
    for step in steps:
        transition = _fire(state, timeline, step)
        state, timeline = transition.target, transition.timeline
    return timeline.model_copy(update={"waivers": waivers})


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_deadlines_as_of_a_day_are_those_of_the_case_as_it_stood_that_day(
    data: st.DataObject,
) -> None:
    state, timeline, day = "referred", CaseTimeline(aware_on=AWARE_ON), AWARE_ON
    script = _script(data)
    # Partners told at some point, perhaps recorded late and dated earlier.
    told_at = data.draw(st.integers(0, len(script)), label="partners told before step")
    told_late = data.draw(st.integers(0, 15), label="days recorded late")
    steps: list[tuple[date, Step]] = []  # (the day it happened, the step as fired)
    # sampled_from draws evenly (integers favour small values): cases travel far, as a
    # replay of their publication stage needs.
    length = data.draw(st.sampled_from([len(script), *range(1, len(script) + 1)]), label="steps")
    for number, step in enumerate(script[:length]):
        day += timedelta(days=data.draw(st.sampled_from(range(26))))
        if number == told_at and state not in FINAL_STATES:
            told_on = max(AWARE_ON, day - timedelta(days=told_late))
            inform = ("inform_partners", {"partners_informed_on": told_on.isoformat()})
            transition = _fire(state, timeline, inform)
            steps.append((told_on, inform))
            state, timeline = transition.target, transition.timeline
        dated = _dated(step, day)
        try:
            transition = _fire(state, timeline, dated)
        except IllegalEvent:
            continue  # e.g. publishing with copies not sent to everyone: not recorded
        except InvalidEventData:
            if dated[0] != "publish":
                raise
            # Copies went too late for this publication date: publish saying why.
            late = {**dated[1], "late_notice_reason": "family asked to publish"}
            dated = (dated[0], late)
            transition = _fire(state, timeline, dated)
        steps.append((day, dated))
        state, timeline = transition.target, transition.timeline
    waivers = {
        clock: Waiver(reason="relaxation", waived_on=AWARE_ON + timedelta(days=offset))
        for clock, offset in data.draw(
            st.dictionaries(st.sampled_from(WAIVABLE_CLOCKS), st.integers(0, 300), max_size=2),
            label="waivers",
        ).items()
    }
    timeline = timeline.model_copy(update={"waivers": waivers})

    as_of = AWARE_ON + timedelta(
        days=data.draw(st.sampled_from(range(-5, (day - AWARE_ON).days + 60)), label="as of")
    )
    then = _replay(
        [step for happened_on, step in steps if happened_on <= as_of],
        {clock: waiver for clock, waiver in waivers.items() if waiver.waived_on <= as_of},
    )
    assert compute_deadlines(timeline, as_of=as_of) == compute_deadlines(then, as_of=as_of)
