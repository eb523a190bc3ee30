"""The `api_key` table, the role ladder, and the `Principal` a request acts as."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint
from sqlmodel import Field, SQLModel

from review_engine.db import one_of, utcnow


class Role(StrEnum):
    """What a key may do; each role includes everything the roles below it may do."""

    VIEWER = "viewer"
    MEMBER = "member"
    MANAGER = "manager"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _ROLE_ORDER.index(self)


_ROLE_ORDER = (Role.VIEWER, Role.MEMBER, Role.MANAGER, Role.ADMIN)


class ApiKey(SQLModel, table=True):
    """A stored API key. Only a SHA-256 of the secret is kept; the key is shown once."""

    __tablename__ = "api_key"
    __table_args__ = (CheckConstraint(one_of("role", [role.value for role in Role]), name="role"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    key_id: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=100, unique=True)
    role: str = Field(max_length=16)
    secret_hash: str = Field(max_length=64)
    # NULL means every partnership (an empty list is normalised to NULL on creation).
    partnership_codes: list[str] | None = Field(default=None, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's name, its role, and the partnerships it may see (None = all)."""

    key_name: str
    role: Role
    partnership_codes: frozenset[str] | None

    def can_access(self, code: str) -> bool:
        """Whether this principal may see the partnership `code` (and anything inside it)."""
        return self.partnership_codes is None or code in self.partnership_codes

    def at_least(self, role: Role) -> bool:
        """Whether this principal's role is `role` or higher."""
        return self.role.rank >= role.rank
