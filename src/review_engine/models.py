"""Every table module, imported so `SQLModel.metadata` (and so Alembic) sees them all.

Each table module imports `review_engine.db` itself (for `utcnow`), which sets the constraint
naming convention before its tables are defined; keep it that way in new table modules.
"""

import review_engine.actions.models
import review_engine.agencies.models
import review_engine.alerts.models
import review_engine.audit
import review_engine.auth.models
import review_engine.calendar_feeds.models
import review_engine.cases.models
import review_engine.contributions.models
import review_engine.db
import review_engine.idempotency
import review_engine.partnerships.models
import review_engine.publishing.models

__all__ = ["review_engine"]
