"""The workflow's documentation: `describe`, `mermaid` and `render_docs` (docs/workflow.md).

Part of the pure core (no HTTP, no SQL, no I/O, no clock reads): these only build values
from `ReviewWorkflow` and the payload models. `review_engine.workflow` re-exports them, and
`python -m review_engine.workflow` writes `render_docs()` to stdout.
"""

from __future__ import annotations

from typing import Any

from review_engine.workflow.events import PAYLOAD_SCHEMAS
from review_engine.workflow.machine import EVENTS, ReviewWorkflow

__all__ = [
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
