"""Runtime configuration, read from `REVIEW_ENGINE_*` environment variables (or `.env`).

Every field can be set from the environment, e.g. `REVIEW_ENGINE_DATABASE_URL`,
`REVIEW_ENGINE_DOCS_ENABLED=false`, `REVIEW_ENGINE_EXTRA_CLOSURE_DAYS='["2027-01-04"]'`.
"""

from __future__ import annotations

import json
from datetime import date
from functools import lru_cache
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict, SettingsError

from review_engine.db import normalise_database_url

ENV_PREFIX = "REVIEW_ENGINE_"


class Settings(BaseSettings):
    """Settings for one deployment of the review engine."""

    # hide_input_in_errors: a validation error's text must not carry the URL's password.
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        hide_input_in_errors=True,
    )

    database_url: str = "sqlite:///review-engine.db"
    """SQLAlchemy URL. The default is a SQLite file in the working directory. `postgres://` and
    `postgresql://` mean PostgreSQL through psycopg 3 (see `normalise_database_url`)."""

    due_soon_working_days: int = Field(default=2, ge=0)
    """How many working days before a deadline a case counts as "due soon" (and its
    `due_soon` alert is raised)."""

    alert_reminder_working_days: int = Field(default=5, ge=1, le=60)
    """Working days between reminders for a deadline still overdue."""

    alert_interval_minutes: float = Field(default=15, gt=0, le=1440)
    """How often the alert runner (in `serve`, or `review-engine alerts run`) detects and
    delivers. Fractions are allowed (tests use seconds)."""

    serve_alerts: bool = True
    """`serve` runs the alert runner in each server process (one of them detects at a time,
    by the runner lease; all of them deliver). Turn off when `review-engine alerts run`
    runs separately."""

    alert_digest_hour: int = Field(default=7, ge=0, le=23)
    """From this hour (in `timezone`) on each working day, daily-digest subscriptions get
    that day's digest."""

    allow_private_targets: bool = False
    """Tests only: let webhook targets be http and internal hosts (loopback, private)."""

    smtp_host: str = Field(default="", max_length=255)
    """The mail server alerts are sent through; email subscriptions need it."""

    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    """starttls (port 587), tls (implicit TLS, port 465), or none (a relay on loopback)."""

    smtp_username: str = Field(default="", max_length=255)
    smtp_password: SecretStr = SecretStr("")
    smtp_from: str = Field(default="review-engine@localhost", max_length=255)
    """The From address of alert emails."""

    public_feed_max_age: int = Field(default=300, ge=0, le=86400)
    """Seconds browsers and proxies may keep a public feed answer (`Cache-Control`)."""

    public_base_url: str = Field(default="", max_length=500)
    """The API's address as alert receivers reach it, e.g. https://reviews.example.org; an
    alert's `link` is this plus the path of what it is about (only the path when empty)."""

    # NoDecode: parsed by `_closure_days_from_json`, whose error names what is expected.
    extra_closure_days: Annotated[list[date], NoDecode] = Field(default_factory=list)
    """Closure days the bank-holiday package does not know about yet (newly proclaimed days)."""

    timezone: str = "Europe/London"
    """The partnership's civil time zone: dates are calendar days in this zone."""

    docs_enabled: bool = True
    """Serve `/docs` and `/openapi.json`. Turn off on production deployments (OWASP API8)."""

    max_page_size: int = Field(default=100, ge=1, le=1000)
    """Upper bound on `limit` for every list endpoint (OWASP API4)."""

    # The validators raise PydanticCustomError so the message reads as written (no "Value
    # error," prefix) and never contains the value, which for the URL may hold a password.

    @field_validator("database_url")
    @classmethod
    def _usable_database_url(cls, value: str) -> str:
        try:
            normalise_database_url(value)
        except ValueError as exc:
            raise PydanticCustomError(
                "database_url",
                "{reason}; expected sqlite:///path/to/file.db or "
                "postgresql://user:password@host:5432/dbname",
                {"reason": str(exc)},
            ) from None
        return value

    @field_validator("extra_closure_days", mode="before")
    @classmethod
    def _closure_days_from_json(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise PydanticCustomError(
                "json_list", 'expected a JSON list of dates, e.g. ["2027-06-07"]'
            ) from None

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise PydanticCustomError(
                "timezone", "expected an IANA time zone name such as Europe/London"
            ) from None
        return value


def explain_invalid_settings(exc: ValidationError | SettingsError) -> str:
    """One line naming each bad variable and what it expects, for an operator. Never the
    value: the database URL carries a password."""
    if isinstance(exc, SettingsError):  # its text names the field, not the value
        return f"invalid setting: {exc} (fix the environment or .env)"
    problems = "; ".join(
        f"{ENV_PREFIX}{str((*error['loc'], 'setting')[0]).upper()}: {error['msg']}"
        for error in exc.errors()
    )
    return f"invalid {problems} (fix the environment or .env)"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings, read from the environment once."""
    return Settings()
