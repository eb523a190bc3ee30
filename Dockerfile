# review-engine: the API on the embedded SQLite default, or on PostgreSQL when
# REVIEW_ENGINE_DATABASE_URL says so. Every step this image runs is exercised without Docker
# by tests/test_packaging.py (wheel contents, `db upgrade`, `serve`, the health check).

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
COPY migrations ./migrations
# The wheel carries the migrations (as review_engine/_migrations), so the runtime image
# needs no source tree.
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    REVIEW_ENGINE_DATABASE_URL=sqlite:////data/review-engine.db \
    REVIEW_ENGINE_DOCS_ENABLED=false \
    WORKERS=2
RUN groupadd --system --gid 10001 review-engine \
    && useradd --system --uid 10001 --gid review-engine --home-dir /data --create-home review-engine
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER review-engine
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
# Migrate first (a no-op at head; safe with several replicas, PostgreSQL takes an advisory
# lock), then serve; exec replaces the shell so uvicorn itself receives SIGTERM.
CMD ["sh", "-c", "review-engine db upgrade && exec review-engine serve --host 0.0.0.0 --port 8000 --workers \"$WORKERS\""]
