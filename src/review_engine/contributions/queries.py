"""What other domains ask about contributions (a case shows its overdue ones)."""

from __future__ import annotations

import uuid

from sqlmodel import Session, col, select

from review_engine.agencies.models import Agency
from review_engine.contributions.models import Contribution
from review_engine.contributions.rules import ContributionFacts


def facts_of(contribution: Contribution, agency: str) -> ContributionFacts:
    return ContributionFacts(
        id=contribution.id,
        agency=agency,
        requested_on=contribution.requested_on,
        due_on=contribution.due_on,
        received_on=contribution.received_on,
        not_coming_on=contribution.not_coming_on,
    )


def case_contributions(*, session: Session, case_id: uuid.UUID) -> tuple[ContributionFacts, ...]:
    """The case's contributions, soonest due first."""
    rows = session.exec(
        select(Contribution, Agency.name)
        .join(Agency, col(Agency.id) == col(Contribution.agency_id))
        .where(col(Contribution.case_id) == case_id)
        .order_by(col(Contribution.due_on), col(Contribution.id))
    )
    return tuple(facts_of(contribution, agency) for contribution, agency in rows)
