"""Issuing, listing, revoking and checking API keys.

Key format: `re_<key_id>_<secret>`. `key_id` is public (it names the row); `secret` is
`secrets.token_urlsafe(32)` (256 bits). Only SHA-256 of the secret is stored: a slow KDF
adds nothing for a high-entropy random secret (reliability.md §6).
"""

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from review_engine.auth.models import ApiKey, Principal, Role
from review_engine.auth.usage import KeyUsage
from review_engine.db import utcnow
from review_engine.errors import BadRequest, Conflict, NotFound
from review_engine.partnerships.models import Partnership

KEY_PREFIX = "re_"

_DUMMY_HASH = hashlib.sha256(b"no such key").hexdigest()


def hash_secret(secret: str) -> str:
    """The stored form of a key's secret: SHA-256, hex."""
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_key(raw_key: str) -> tuple[str, str] | None:
    """Split `re_<key_id>_<secret>` into its parts, or None if it is not shaped like a key."""
    if not raw_key.startswith(KEY_PREFIX):
        return None
    key_id, sep, secret = raw_key.removeprefix(KEY_PREFIX).partition("_")
    if not sep or not key_id or len(key_id) > 32 or len(secret) < 22 or len(secret) > 128:
        return None
    return key_id, secret


def create_api_key(
    *, session: Session, name: str, role: Role, partnership_codes: Iterable[str] | None
) -> tuple[ApiKey, str]:
    """Create a key; returns the row and the raw key, which is never retrievable again."""
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise BadRequest("A key name must be 1 to 100 characters.")
    codes = sorted(set(partnership_codes or ())) or None
    if codes is not None:
        known = set(session.exec(select(Partnership.code).where(col(Partnership.code).in_(codes))))
        missing = [code for code in codes if code not in known]
        if missing:
            raise NotFound(f"Unknown partnership code(s): {', '.join(missing)}.")
    if session.exec(select(ApiKey.id).where(ApiKey.name == name)).first() is not None:
        raise Conflict(f"An API key named {name!r} already exists.")

    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    api_key = ApiKey(
        key_id=key_id,
        name=name,
        role=Role(role).value,
        secret_hash=hash_secret(secret),
        partnership_codes=codes,
    )
    session.add(api_key)
    try:
        session.commit()
    except IntegrityError as exc:  # a concurrent create with the same name won the race
        session.rollback()
        raise Conflict(f"An API key named {name!r} already exists.") from exc
    session.refresh(api_key)
    return api_key, f"{KEY_PREFIX}{key_id}_{secret}"


def list_api_keys(*, session: Session) -> list[ApiKey]:
    """Every key, revoked ones included, ordered by name."""
    return list(session.exec(select(ApiKey).order_by(col(ApiKey.name))))


def revoke_api_key(*, session: Session, name: str) -> ApiKey:
    """Revoke the key called `name`; it is refused from its next request. Idempotent."""
    api_key = session.exec(select(ApiKey).where(ApiKey.name == name)).first()
    if api_key is None:
        raise NotFound(f"No API key named {name!r}.")
    if api_key.revoked_at is None:
        api_key.revoked_at = utcnow()
        session.add(api_key)
        session.commit()
        session.refresh(api_key)
    return api_key


def authenticate(
    *, session: Session, raw_key: str, usage: KeyUsage | None = None, now: datetime | None = None
) -> ApiKey | None:
    """The live key matching `raw_key`, or None (unknown, wrong secret, revoked, malformed).
    Its use is noted in `usage`, which stores it later: authenticating never writes."""
    parts = parse_key(raw_key)
    if parts is None:
        return None
    key_id, secret = parts
    api_key = session.exec(select(ApiKey).where(ApiKey.key_id == key_id)).first()
    # Compare even when the key id is unknown, so timing does not reveal which ids exist.
    matches = hmac.compare_digest(
        hash_secret(secret), api_key.secret_hash if api_key else _DUMMY_HASH
    )
    if api_key is None or not matches or api_key.revoked_at is not None:
        return None
    if usage is not None:
        usage.note(api_key, now or utcnow())
    return api_key


def principal_for(api_key: ApiKey) -> Principal:
    """The principal a request made with `api_key` acts as."""
    codes = api_key.partnership_codes
    return Principal(
        key_name=api_key.name,
        role=Role(api_key.role),
        partnership_codes=frozenset(codes) if codes else None,
    )
