"""A message as an email: plain text and HTML, sent through the deployment's SMTP server
(STARTTLS, implicit TLS, or none for a relay on loopback) with the standard library's
`smtplib`. The `Message-ID` is the delivery's, so a resend is the same message to a mail
client that keeps ids. Like every alert, it says what is due and where, never who.
"""

from __future__ import annotations

import html
import smtplib
import ssl
import time
from dataclasses import dataclass
from email.message import EmailMessage

from review_engine.alerts.messages import Message, Section
from review_engine.alerts.webhooks import Outcome

__all__ = ["SmtpSettings", "compose", "send"]


@dataclass(frozen=True)
class SmtpSettings:
    host: str = ""
    port: int = 587
    security: str = "starttls"  # starttls | tls | none
    username: str = ""
    password: str = ""
    sender: str = "review-engine@localhost"
    timeout: float = 10.0


def _text(section: Section) -> str:
    heading = f"{section.heading}\n" if section.heading else ""
    link = [("Open", section.link)] if section.link else []
    return heading + "".join(f"{name}: {value}\n" for name, value in [*section.facts, *link])


def _html(section: Section) -> str:
    heading = f"<h2>{html.escape(section.heading)}</h2>" if section.heading else ""
    link = [("Open", section.link)] if section.link else []
    rows = "".join(
        f'<tr><th scope="row" align="left">{html.escape(name)}</th>'
        f"<td>{html.escape(value)}</td></tr>"
        for name, value in [*section.facts, *link]
    )
    return f"{heading}<table>{rows}</table>"


def compose(message: Message, *, to: str, sender: str, message_id: str) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = message.subject_line
    mail["From"] = sender
    mail["To"] = to
    mail["Message-ID"] = f"<{message_id}@review-engine>"
    sections = message.sections()
    mail.set_content(f"{message.title}\n\n" + "\n".join(_text(s) for s in sections))
    mail.add_alternative(
        f'<!doctype html><html lang="en"><body><h1>{html.escape(message.title)}</h1>'
        + "".join(_html(s) for s in sections)
        + "</body></html>",
        subtype="html",
    )
    return mail


def send(smtp: SmtpSettings, mail: EmailMessage) -> Outcome:
    """Sends once; a refusal or a broken connection is the class of the error."""
    started = time.perf_counter()
    try:
        if smtp.security == "tls":
            server: smtplib.SMTP = smtplib.SMTP_SSL(
                smtp.host, smtp.port, timeout=smtp.timeout, context=ssl.create_default_context()
            )
        else:
            server = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
        with server:
            if smtp.security == "starttls":
                server.starttls(context=ssl.create_default_context())
            if smtp.username:
                server.login(smtp.username, smtp.password)
            server.send_message(mail)
    except (smtplib.SMTPException, OSError) as exc:
        elapsed = int((time.perf_counter() - started) * 1000)
        return Outcome(status_code=None, error=type(exc).__name__, latency_ms=elapsed)
    elapsed = int((time.perf_counter() - started) * 1000)
    return Outcome(status_code=250, error=None, latency_ms=elapsed, accepted=True)
