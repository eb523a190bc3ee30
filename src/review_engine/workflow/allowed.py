"""Which events a case can take now, read from the machine's class without building a
machine: for each state, each event's transitions and the guards on them, as
`ReviewWorkflow` declares them, evaluated by `WorkflowGuards` over the case. Building a
python-statemachine machine (its callbacks resolved for every instance) is what most of
a case read used to cost; reading the guards costs next to nothing.

The answer is the machine's own `enabled_events()`: an event is allowed when one of its
transitions out of the state has every condition holding (a routing condition holds with
no payload). `tests/test_workflow_allowed.py` checks the two agree on every state.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from review_engine.workflow.machine import EVENTS, CaseRecord, ReviewWorkflow, WorkflowGuards

__all__ = ["allowed_for"]

Condition = Callable[[WorkflowGuards], bool]
_SPEC = re.compile(r"(!?)([a-z_]+)")


class _Reader(WorkflowGuards):
    def __init__(self, model: CaseRecord) -> None:
        self.model = model


def _condition(spec: str) -> Condition:
    """A transition's condition as the machine declares it: `name`, or `!name` (unless)."""
    match = _SPEC.fullmatch(spec)
    if match is None:  # a boolean expression: this reader would have to learn to parse it
        raise ValueError(f"unsupported transition condition {spec!r}")
    negated, name = match.groups()
    guard = getattr(WorkflowGuards, name)  # an AttributeError here: a guard not in the base
    if negated:
        return lambda reader: not guard(reader)
    return lambda reader: bool(guard(reader))


@dataclass(frozen=True)
class _Route:
    event: str
    conditions: tuple[Condition, ...]


def _routes() -> dict[str, tuple[_Route, ...]]:
    return {
        state.value: tuple(
            _Route(str(event), tuple(_condition(str(spec)) for spec in transition.cond))
            for transition in state.transitions
            for event in transition.events
        )
        for state in ReviewWorkflow.states
    }


_ROUTES = _routes()


def allowed_for(case: CaseRecord) -> list[str]:
    """The events `case` can take now, in the order of `EVENTS` (its state must be known)."""
    reader = _Reader(case)
    enabled = {
        route.event
        for route in _ROUTES[case.state]
        if all(condition(reader) for condition in route.conditions)
    }
    return [event for event in EVENTS if event in enabled]
