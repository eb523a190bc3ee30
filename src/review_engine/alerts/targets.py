"""Where an alert may be sent. A webhook or Teams target must be an https URL whose host
does not resolve to a loopback, private, link-local or otherwise internal address (OWASP
API7, server-side request forgery), checked when the subscription is made and again
before every send (DNS can change). `REVIEW_ENGINE_ALLOW_PRIVATE_TARGETS=true`, for tests
only, allows http and internal hosts, and resolves nothing.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import urlsplit, urlunsplit

from review_engine.field_error import FieldError

__all__ = ["check_target", "internal_address", "redacted"]

EMAIL_PATTERN = r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$"
"""An email address, as far as it can be checked without sending to it."""
_EMAIL = re.compile(EMAIL_PATTERN)


def internal_address(host: str, port: int) -> str | None:
    """Why `host` may not be sent to (it resolves to an internal address, or not at all),
    or None when every address it resolves to is public."""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)}
    except (socket.gaierror, UnicodeError):
        return "its host does not resolve"
    for address in addresses:
        ip = ipaddress.ip_address(str(address).split("%", 1)[0])
        if not ip.is_global or ip.is_multicast:
            return "its host resolves to an internal address"
    return None


def check_target(channel: str, target: str, *, allow_private: bool) -> list[FieldError]:
    """What is wrong with `target` for `channel` (empty: nothing)."""

    def wrong(message: str) -> list[FieldError]:
        return [FieldError(field="body.target", message=message)]

    if channel == "email":
        return (
            [] if _EMAIL.fullmatch(target) and len(target) <= 254 else wrong("not an email address")
        )
    parts = urlsplit(target)
    schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in schemes or not parts.hostname:
        return wrong("must be an https URL")
    if parts.username or parts.password:
        return wrong("must not carry credentials")
    if allow_private:
        return []
    try:
        port = parts.port or 443
    except ValueError:
        return wrong("has an invalid port")
    reason = internal_address(parts.hostname, port)
    return wrong(reason) if reason else []


def redacted(target: str) -> str:
    """A target as the API shows it: an email address whole; a URL without its path and
    query (a Teams Workflows URL carries its signature in the query)."""
    if "://" not in target:
        return target
    parts = urlsplit(target)
    return urlunsplit(
        (parts.scheme, parts.netloc, "/…" if parts.path not in ("", "/") else "", "", "")
    )
