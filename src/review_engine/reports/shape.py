"""The yearly report's counts as it shows them: each list of what was counted becomes its
number, or "c" where `suppress_below` hides a small one; the JSON nests them by group, and
`detail` lists what each counts under its full name."""

from __future__ import annotations

from typing import Any

from review_engine.reports.schemas import Count
from review_engine.reports.work import SLIPPED_DAYS, WorkCount

__all__ = ["nest", "suppressed", "work_detail", "work_figures"]


def suppressed(counted: list[str], below: int | None) -> Count:
    """The count, or "c" when it is from 1 to `below` - 1."""
    number = len(counted)
    return "c" if below is not None and 0 < number < below else number


def nest(flat: dict[str, Count]) -> dict[str, Any]:
    """`{"a.b.c": 1}` as `{"a": {"b": {"c": 1}}}`."""
    nested: dict[str, Any] = {}
    for name, value in flat.items():
        *groups, last = name.split(".")
        place = nested
        for group in groups:
            place = place.setdefault(group, {})
        place[last] = value
    return nested


def _actions(counted: dict[str, list[str]], days: int, below: int | None) -> dict[str, Count]:
    shown = {name: suppressed(ids, below) for name, ids in counted.items()}
    # A total of days beside a hidden count could give the count away.
    shown[SLIPPED_DAYS] = "c" if shown["slipped"] == "c" else days
    return shown


def work_figures(work: WorkCount, below: int | None) -> dict[str, Any]:
    """`actions` (with `by_lead_agency`, keyed by the agency's name, which may hold dots)
    and `contributions`, as the JSON shows them."""
    return {
        "actions": {
            **_actions(work.actions, work.slipped_days, below),
            "by_lead_agency": {
                agency: _actions(counted, work.slipped_days_by_lead_agency[agency], below)
                for agency, counted in work.by_lead_agency.items()
            },
        },
        "contributions": {
            name: suppressed(refs, below) for name, refs in work.contributions.items()
        },
    }


def work_detail(work: WorkCount) -> dict[str, list[str]]:
    """What each action and contribution figure counts: action ids, case references."""
    return {
        **{f"actions.{name}": ids for name, ids in work.actions.items()},
        **{
            f"actions.by_lead_agency.{agency}.{name}": ids
            for agency, counted in work.by_lead_agency.items()
            for name, ids in counted.items()
        },
        **{f"contributions.{name}": refs for name, refs in work.contributions.items()},
    }
