"""When each API key was last used, written apart from the requests that use it.

A request never writes for it: a read stays a read (on SQLite it takes no write lock), and
a busy database cannot fail or slow a request over a usage timestamp. `KeyUsage.note`
keeps, per key, its latest use not yet stored, once the stored one is
`LAST_USED_RESOLUTION` old; `KeyUsage.flush` stores them in one transaction. The app's
`KeyUsageWriter` flushes every `LAST_USED_RESOLUTION` in a daemon thread, and once more
when the app shuts down, so `last_used_at` lags a use by at most that much (two, with
several worker processes each holding their own).
"""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import datetime, timedelta

from sqlalchemy import Engine, bindparam, or_, update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col

from review_engine.auth.models import ApiKey

LAST_USED_RESOLUTION = timedelta(minutes=1)
"""`last_used_at` moves at most this often per key, and is stored this often at most."""

log = logging.getLogger(__name__)

_STORE = (
    update(ApiKey)
    .where(
        col(ApiKey.id) == bindparam("key"),
        or_(col(ApiKey.last_used_at).is_(None), col(ApiKey.last_used_at) < bindparam("used")),
    )
    .values(last_used_at=bindparam("used"))
)


class KeyUsage:
    """The uses of keys not yet stored; safe to share between a process's threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[uuid.UUID, datetime] = {}

    def note(self, api_key: ApiKey, now: datetime) -> None:
        """Remember that `api_key` was used at `now`, unless its stored use is recent."""
        last = api_key.last_used_at
        if last is not None and now - last < LAST_USED_RESOLUTION:
            return
        with self._lock:
            self._keep({api_key.id: now})

    def flush(self, engine: Engine) -> int:
        """Stores the pending uses (never moving one back); returns how many keys. On a
        database error they stay pending for the next flush, and the error is logged."""
        with self._lock:
            pending, self._pending = self._pending, {}
        if not pending:
            return 0
        try:
            with engine.begin() as connection:
                rows = [{"key": key, "used": used} for key, used in pending.items()]
                connection.execute(_STORE, rows)
        except SQLAlchemyError as exc:
            log.warning("storing API key use failed: %s", type(exc).__name__)
            with self._lock:
                self._keep(pending)
            return 0
        return len(pending)

    def _keep(self, uses: dict[uuid.UUID, datetime]) -> None:
        for key, used in uses.items():
            self._pending[key] = max(used, self._pending.get(key, used))


class KeyUsageWriter:
    """Flushes `usage` to `engine` every `interval` in a daemon thread, until `stop()`,
    which flushes once more."""

    def __init__(
        self, usage: KeyUsage, engine: Engine, interval: timedelta = LAST_USED_RESOLUTION
    ) -> None:
        self.usage, self.engine, self.interval = usage, engine, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="key-usage", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
        self.usage.flush(self.engine)

    def _run(self) -> None:
        while not self._stop.wait(self.interval.total_seconds()):
            self.usage.flush(self.engine)
