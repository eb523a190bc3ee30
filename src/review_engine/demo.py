"""A realistic, entirely fictional data set: two partnerships and cases at every stage
(and, from `demo_learning`, their agencies, actions and contributions).

Dates are set relative to today, so some deadlines are always pending, some due soon and
some overdue whenever the demo is loaded. No real names: children appear only as
"Child" pseudonyms with an age band.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col
from starlette.responses import Response

from review_engine.auth.models import Principal, Role
from review_engine.cases import events
from review_engine.cases import service as cases
from review_engine.cases.changes import CaseView, ChangeRequest
from review_engine.cases.models import Case
from review_engine.cases.schemas import CaseCreate
from review_engine.clocks import ClockContext
from review_engine.demo_learning import load_learning
from review_engine.partnerships.models import Partnership

DEMO_PARTNERSHIPS = (
    ("wessex-vale", "Wessex Vale Safeguarding Children Partnership", "notified"),
    ("kingsmere", "Kingsmere Safeguarding Children Partnership", "aware"),
)

_LOADER = Principal(key_name="demo-loader", role=Role.ADMIN, partnership_codes=None)

# (reference, partnership, incident type, working days since awareness, themes, events).
# Each event is (name, payload) with dates given as working days before today ("-N").
Script = list[tuple[str, dict[str, Any]]]
_CASES: list[tuple[str, str, str, int, list[str], Script]] = [
    ("WV-2026-014", "wessex-vale", "serious_harm", 2, ["non_accidental_injury"], []),
    ("WV-2026-013", "wessex-vale", "death", 7, ["sudi"], []),
    (
        "WV-2026-012",
        "wessex-vale",
        "serious_harm",
        16,
        ["neglect"],
        [
            ("notify_panel", {"notified_on": -14}),
            ("inform_partners", {"partners_informed_on": -14}),
        ],
    ),
    (
        "WV-2026-011",
        "wessex-vale",
        "serious_harm",
        24,
        ["criminal_exploitation", "school_absence"],
        [("notify_panel", {"notified_on": -22})],
    ),
    (
        "WV-2026-009",
        "wessex-vale",
        "death",
        40,
        ["parental_mental_health"],
        [
            ("notify_panel", {"notified_on": -37}),
            ("inform_partners", {"partners_informed_on": -37}),
            ("submit_rapid_review", {"submitted_on": -24, "recommendation": "lcspr"}),
        ],
    ),
    (
        "WV-2026-004",
        "wessex-vale",
        "serious_harm",
        95,
        ["domestic_abuse", "neglect"],
        [
            ("notify_panel", {"notified_on": -93}),
            ("inform_partners", {"partners_informed_on": -92}),
            ("submit_rapid_review", {"submitted_on": -80, "recommendation": "lcspr"}),
            ("record_panel_response", {"received_on": -70, "outcome": "agreed"}),
        ],
    ),
    (
        "WV-2025-021",
        "wessex-vale",
        "death",
        230,
        ["non_accidental_injury"],
        [
            ("notify_panel", {"notified_on": -228}),
            ("inform_partners", {"partners_informed_on": -228}),
            ("submit_rapid_review", {"submitted_on": -214, "recommendation": "lcspr"}),
            ("record_panel_response", {"received_on": -205, "outcome": "agreed"}),
            (
                "pause",
                {"started_on": -150, "reason": "Criminal trial", "panel_informed_on": -149},
            ),
        ],
    ),
    (
        "WV-2025-017",
        "wessex-vale",
        "serious_harm",
        250,
        ["child_sexual_abuse"],
        [
            ("notify_panel", {"notified_on": -247}),
            ("inform_partners", {"partners_informed_on": -246}),
            ("submit_rapid_review", {"submitted_on": -233, "recommendation": "lcspr"}),
            ("record_panel_response", {"received_on": -222, "outcome": "agreed"}),
        ],
    ),
    (
        "KM-2026-007",
        "kingsmere",
        "serious_harm",
        170,
        ["domestic_abuse"],
        [
            ("notify_panel", {"notified_on": -168}),
            ("inform_partners", {"partners_informed_on": -168}),
            ("submit_rapid_review", {"submitted_on": -156, "recommendation": "lcspr"}),
            ("record_panel_response", {"received_on": -146, "outcome": "agreed"}),
            ("approve_final_report", {"approved_on": -5, "planned_publication_on": 12}),
        ],
    ),
    (
        "KM-2025-019",
        "kingsmere",
        "death",
        300,
        ["sudi", "parental_substance_misuse"],
        [
            ("notify_panel", {"notified_on": -298}),
            ("inform_partners", {"partners_informed_on": -298}),
            ("submit_rapid_review", {"submitted_on": -285, "recommendation": "lcspr"}),
            ("record_panel_response", {"received_on": -276, "outcome": "agreed"}),
            ("approve_final_report", {"approved_on": -160, "planned_publication_on": -140}),
            ("send_advance_copies", {"sent_on": -150}),
            (
                "publish",
                {
                    "published_on": -140,
                    "mode": "redacted",
                    "url": "https://kingsmere-scp.example/reviews/child-k",
                    "title": "Child K: learning from a sudden unexpected death in infancy",
                },
            ),
        ],
    ),
    (
        "KM-2026-010",
        "kingsmere",
        "serious_harm",
        60,
        ["online_harm"],
        [
            ("decide_not_to_notify", {"decided_on": -57, "reason": "Criteria not met"}),
            ("start_learning_review", {"started_on": -45}),
        ],
    ),
    (
        "KM-2026-011",
        "kingsmere",
        "other",
        30,
        ["extrafamilial_harm"],
        [("decide_not_to_notify", {"decided_on": -28, "reason": "Criteria not met"})],
    ),
    (
        "KM-2026-003",
        "kingsmere",
        "serious_harm",
        120,
        ["child_sexual_abuse", "elective_home_education"],
        [
            ("notify_panel", {"notified_on": -118}),
            ("inform_partners", {"partners_informed_on": -118}),
            ("submit_rapid_review", {"submitted_on": -104, "recommendation": "national_review"}),
            ("record_panel_response", {"received_on": -95, "outcome": "national_review"}),
        ],
    ),
    (
        "KM-2026-008",
        "kingsmere",
        "death",
        50,
        [],
        [
            ("inform_partners", {"partners_informed_on": -48}),
            ("notify_panel", {"notified_on": -48, "rapid_review_required": False}),
        ],
    ),
    (
        "KM-2026-009",
        "kingsmere",
        "serious_harm",
        45,
        ["neglect"],
        [
            ("notify_panel", {"notified_on": -43}),
            ("withdraw", {"withdrawn_on": -40, "reason": "Later found not to meet the criteria"}),
        ],
    ),
]


# What some cases record about the child beyond the incident type.
_FACTS: dict[str, dict[str, Any]] = {"KM-2026-008": {"looked_after": True}}


@dataclass(frozen=True)
class DemoLoaded:
    partnerships_created: int
    cases_created: int


def _payload(raw: dict[str, Any], context: ClockContext, today: date) -> dict[str, Any]:
    resolved: dict[str, Any] = {}
    for name, value in raw.items():
        if name.endswith("_on") and isinstance(value, int):
            value = context.calendar.add_working_days(today, value).isoformat()
        resolved[name] = value
    return resolved


def load_demo(*, session: Session, context: ClockContext) -> DemoLoaded:
    """Adds the demo partnerships and cases; anything already there is left alone."""
    today = context.today
    partnerships_created = 0
    for code, name, clock_start in DEMO_PARTNERSHIPS:
        exists = session.execute(select(Partnership).where(col(Partnership.code) == code)).first()
        if exists is None:
            session.add(Partnership(code=code, name=name, rapid_review_clock_start=clock_start))
            partnerships_created += 1
    session.commit()
    # The loader needs no HTTP answers, only the case each step leaves.
    views: list[CaseView] = []

    def keep_view(view: CaseView) -> Response:
        views.append(view)
        return Response()

    change = ChangeRequest(
        principal=_LOADER,
        accepted_versions=None,
        context=context,
        etag=str,
        render=keep_view,
    )
    cases_created = 0
    for reference, code, incident_type, aware_ago, themes, script in _CASES:
        if session.execute(select(col(Case.id)).where(col(Case.reference) == reference)).first():
            continue
        aware_on = context.calendar.add_working_days(today, -aware_ago)
        cases.create_case(
            session=session,
            change=change,
            case_in=CaseCreate(
                partnership=code,
                reference=reference,
                incident_type=incident_type,
                aware_on=aware_on,
                themes=themes,
                summary="Fictional demonstration case.",
                children=[{"name": f"Child {reference[-2:]}", "age_years": 1}],
                **_FACTS.get(reference, {}),
            ),
        )
        case_id = views[-1].case.id
        for event, raw in script:
            events.fire_event(
                session=session,
                change=change,
                case_id=case_id,
                event=event,
                payload=_payload(raw, context, today),
                dry_run=False,
            )
        cases_created += 1
    load_learning(session=session, context=context)
    return DemoLoaded(partnerships_created=partnerships_created, cases_created=cases_created)
