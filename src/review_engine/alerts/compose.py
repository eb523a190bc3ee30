"""What a delivery is to say, read from the database when it is sent: an alert (if its
deadline still runs, due on the same day), a subscription's digest (what is due soon or
overdue as of the day it is sent), or a fallback notice with what the failed delivery was to
say. None when there is nothing left worth sending: the delivery is then cancelled, never
sent stale.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

from sqlmodel import Session, col, select

from review_engine.actions.models import Action, running_action
from review_engine.alerts.ladder import Ladder, reached
from review_engine.alerts.messages import AlertMessage, DigestMessage, FallbackMessage
from review_engine.alerts.models import Alert, Delivery, Subscription
from review_engine.alerts.running import RunningDeadline, running_deadlines
from review_engine.calendar import Calendar
from review_engine.cases.models import Case, CaseDeadline, running_deadline
from review_engine.contributions.models import Contribution, outstanding_contribution
from review_engine.partnerships.models import Partnership

__all__ = ["SUBJECT_PATHS", "Composer", "still_due"]

SUBJECT_PATHS = {
    "case": "/cases/{id}",
    "action": "/actions/{id}",
    "contribution": "/contributions/{id}",
}


def still_due(session: Session, alert: Alert) -> bool:
    """Whether the deadline the alert is about still runs, due on the same day."""
    if alert.subject_type == "case":
        deadline = select(CaseDeadline.id).where(
            running_deadline(),
            col(CaseDeadline.case_id) == alert.subject_id,
            col(CaseDeadline.name) == alert.clock,
            col(CaseDeadline.due_on) == alert.due_on,
        )
        return session.exec(deadline).first() is not None
    if alert.subject_type == "action":
        action = select(Action.id).where(
            running_action(), col(Action.id) == alert.subject_id, col(Action.due_on) == alert.due_on
        )
        return session.exec(action).first() is not None
    contribution = select(Contribution.id).where(
        outstanding_contribution(),
        col(Contribution.id) == alert.subject_id,
        col(Contribution.due_on) == alert.due_on,
    )
    return session.exec(contribution).first() is not None


@dataclass(frozen=True)
class Composer:
    """Builds messages as of `today`, on the deployment's calendar and ladder."""

    session: Session
    calendar: Calendar
    ladder: Ladder
    today: date
    base_url: str

    def _entry(
        self, deadline: RunningDeadline, rung: str, sequence: int, alert_id: str | None
    ) -> AlertMessage:
        partnership = self.session.get(Partnership, deadline.partnership_id)
        case = self.session.get(Case, deadline.case_id) if deadline.case_id else None
        overdue = (
            self.calendar.working_days_between(deadline.due_on, self.today)
            if self.today > deadline.due_on
            else 0
        )
        path = SUBJECT_PATHS[deadline.subject_type].format(id=deadline.subject_id)
        return AlertMessage(
            alert_id=alert_id,
            rung=rung,
            sequence=sequence,
            partnership=partnership.code if partnership else "",
            subject=deadline.subject_type,
            subject_id=str(deadline.subject_id),
            case_reference=case.reference if case else None,
            clock=deadline.clock,
            due_on=deadline.due_on,
            working_days_overdue=overdue,
            link=self.base_url.rstrip("/") + path,
        )

    def alert(self, alert: Alert) -> AlertMessage | None:
        if not still_due(self.session, alert):
            return None
        deadline = RunningDeadline(
            alert.subject_type,
            alert.subject_id,
            alert.clock,
            alert.due_on,
            alert.partnership_id,
            alert.case_id,
        )
        return self._entry(deadline, alert.rung, alert.sequence, str(alert.id))

    def digest(
        self, subscription: Subscription, digest_on: date, codes: set[str] | None = None
    ) -> DigestMessage | None:
        """Every running deadline of the subscription's partnerships (or of `codes` among
        them) at a rung it wants, as of today: a digest sent late says how things stand
        when it is read."""
        codes = set(subscription.partnerships) & (
            set(subscription.partnerships) if codes is None else codes
        )
        ids = {
            partnership_id
            for partnership_id, code in self.session.exec(select(Partnership.id, Partnership.code))
            if code in codes
        }
        horizon = self.ladder.horizon(self.today, self.calendar)
        entries: list[AlertMessage] = []
        for deadline in running_deadlines(session=self.session, horizon=horizon, as_of=self.today):
            if deadline.partnership_id not in ids:
                continue
            rungs = reached(deadline.due_on, self.today, self.ladder, self.calendar)
            if not rungs or rungs[-1].name not in subscription.alert_types:
                continue
            furthest = rungs[-1]
            alert = self.session.exec(
                select(Alert.id).where(
                    col(Alert.subject_type) == deadline.subject_type,
                    col(Alert.subject_id) == deadline.subject_id,
                    col(Alert.clock) == deadline.clock,
                    col(Alert.rung) == furthest.name,
                    col(Alert.sequence) == furthest.sequence,
                    col(Alert.due_on) == deadline.due_on,
                    col(Alert.state) == "raised",
                )
            ).first()
            alert_id = str(alert) if alert is not None else None
            entries.append(self._entry(deadline, furthest.name, furthest.sequence, alert_id))
        if not entries:
            return None
        entries.sort(
            key=lambda e: (-e.working_days_overdue, e.due_on, e.case_reference or "", e.clock)
        )
        return DigestMessage(
            digest_on=digest_on,
            partnerships=tuple(sorted(codes)),
            entries=tuple(entries),
        )

    def of(
        self, delivery: Delivery, subscription: Subscription, codes: set[str] | None = None
    ) -> AlertMessage | DigestMessage | None:
        """What an alert or digest delivery is to say now; None: nothing left to send."""
        if delivery.kind == "digest":
            assert delivery.digest_on is not None  # ck_delivery_kind_fields
            return self.digest(subscription, delivery.digest_on, codes)
        alert = self.session.get(Alert, delivery.alert_id)
        assert alert is not None  # foreign key
        message = self.alert(alert)
        if message is None or (codes is not None and message.partnership not in codes):
            return None
        return message

    def fallback(self, delivery: Delivery, subscription: Subscription) -> FallbackMessage | None:
        """The notice of a failed delivery, with what it was to say as things stand now:
        only what concerns the partnerships whose fallback address this is."""
        failed = self.session.get(Delivery, delivery.fallback_for)
        assert failed is not None  # foreign key
        codes = set(
            self.session.exec(
                select(Partnership.code).where(
                    col(Partnership.alert_fallback_email) == delivery.target
                )
            )
        )
        original = self.of(failed, subscription, codes)
        if original is None:
            return None
        partnership = (
            original.partnership
            if isinstance(original, AlertMessage)
            else ", ".join(original.partnerships)
        )
        host = (
            urlsplit(subscription.target).hostname or ""
            if subscription.channel != "email"
            else subscription.target
        )
        return FallbackMessage(
            failed_delivery_id=str(failed.id),
            channel=subscription.channel,
            target_host=host,
            attempts=failed.attempts,
            last_error=failed.last_error
            or (f"HTTP {failed.last_status_code}" if failed.last_status_code else "-"),
            partnership=partnership,
            original=original,
        )
