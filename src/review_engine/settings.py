"""Runtime configuration, read from `REVIEW_ENGINE_*` environment variables (or `.env`).

Every field can be set from the environment, e.g. `REVIEW_ENGINE_DATABASE_URL`,
`REVIEW_ENGINE_DOCS_ENABLED=false`, `REVIEW_ENGINE_EXTRA_CLOSURE_DAYS='["2027-01-04"]'`.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Settings for one deployment of the review engine."""

    model_config = SettingsConfigDict(
        env_prefix="REVIEW_ENGINE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = "sqlite:///review-engine.db"
    """SQLAlchemy URL. The default is a SQLite file in the working directory."""

    due_soon_working_days: int = Field(default=2, ge=0)
    """How many working days before a deadline a case counts as "due soon"."""

    extra_closure_days: list[date] = Field(default_factory=list)
    """Closure days the bank-holiday package does not know about yet (newly proclaimed days)."""

    timezone: str = "Europe/London"
    """The partnership's civil time zone: dates are calendar days in this zone."""

    docs_enabled: bool = True
    """Serve `/docs` and `/openapi.json`. Turn off on production deployments (OWASP API8)."""

    max_page_size: int = Field(default=100, ge=1, le=1000)
    """Upper bound on `limit` for every list endpoint (OWASP API4)."""

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("unknown IANA time zone") from exc
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings, read from the environment once."""
    return Settings()
