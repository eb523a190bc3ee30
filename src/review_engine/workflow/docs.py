"""The workflow's documentation: `describe`, `mermaid` and `render_docs` (docs/workflow.md).

Part of the pure core (no HTTP, no SQL, no I/O, no clock reads): these only build values
from `ReviewWorkflow` and the payload models. `review_engine.workflow` re-exports them, and
`python -m review_engine.workflow` writes `render_docs()` to stdout.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from review_engine.workflow.events import PAYLOAD_SCHEMAS
from review_engine.workflow.machine import EVENTS, ReviewWorkflow

__all__ = [
    "case_diagram",
    "describe",
    "mermaid",
    "render_docs",
]


def describe() -> dict[str, Any]:
    """States, events, transitions and payload JSON schemas, for `GET /workflow`."""
    return {
        "states": [
            {"name": state.value, "initial": state.initial, "final": state.final}
            for state in ReviewWorkflow.states
        ],
        "events": [
            {
                "name": event,
                "transitions": [
                    {"source": transition.source.value, "target": target.value}
                    for state in ReviewWorkflow.states
                    for transition in state.transitions
                    if transition.match(event)
                    for target in transition.targets
                ],
                "payload_schema": PAYLOAD_SCHEMAS[event].model_json_schema(),
            }
            for event in EVENTS
        ],
    }


def mermaid() -> str:
    """The workflow as a Mermaid state diagram."""
    return f"{ReviewWorkflow:mermaid}"


class _AtState:
    """The model a machine is drawn for: only its state."""

    def __init__(self, state: str) -> None:
        self.state = state


def _label(state: str) -> str:
    label: str = next(s.name for s in ReviewWorkflow.states if s.value == state)
    return label


def case_diagram(*, state: str, path: Sequence[str], title: str) -> str:
    """The workflow as a Mermaid state diagram for one case: the states `path` went through
    (oldest first) marked `visited`, the one it is in now `active`, and an accessible title
    and description that say the same in words (not by colour alone)."""
    drawn = f"{ReviewWorkflow(_AtState(state)):mermaid}".rstrip()
    header, body = drawn.split("\n", 1)
    walked = " → ".join(_label(step) for step in path) or _label(state)
    lines = [
        header,
        f"    accTitle: {title}",
        f"    accDescr: Path so far: {walked}. Now: {_label(state)}.",
        body,
        "    classDef visited fill:#dbe9f6,stroke:#1d70b8",
    ]
    lines += [f"    {step}:::visited" for step in dict.fromkeys(path) if step != state]
    return "\n".join(lines) + "\n"


def render_docs() -> str:
    """The exact content of docs/workflow.md."""
    return (
        "# Review workflow\n"
        "\n"
        "Generated from `review_engine.workflow`; do not edit. Regenerate with "
        "`python -m review_engine.workflow > docs/workflow.md`.\n"
        "\n"
        "```mermaid\n"
        f"{mermaid().strip()}\n"
        "```\n"
        "\n"
        "## Transitions\n"
        "\n"
        f"{format(ReviewWorkflow, 'md').strip()}\n"
    )
