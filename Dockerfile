# review-engine: the API on the embedded SQLite default, or on PostgreSQL when
# REVIEW_ENGINE_DATABASE_URL says so. Every step this image runs is exercised without Docker
# by tests/test_packaging.py (the lock files, wheel contents, `db upgrade`, `serve` on $PORT,
# the health check against a ready and an unready database).

# Both stages start from the same base, pinned by tag and by digest (the multi-platform index,
# so amd64 and arm64 builds both resolve to it). To move to a newer build or patch release,
# read the index digest of the new tag, e.g.
#   docker buildx imagetools inspect python:3.11.16-slim-trixie   (the top "Digest:" line)
# and replace tag and digest together here.
ARG PYTHON_IMAGE=python:3.11.16-slim-trixie@sha256:be1575ed968de893bd54f4c56315ff7c4736ce522c1bca08fd521731aafc0d76

FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
COPY migrations ./migrations
# The wheel carries the migrations (as review_engine/_migrations), so the runtime image
# needs no source tree.
RUN pip wheel --no-cache-dir --disable-pip-version-check --no-deps --wheel-dir /wheels .

FROM ${PYTHON_IMAGE}
# MPLCONFIGDIR: matplotlib (the yearly report's charts) keeps its font cache there, not in /data.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    REVIEW_ENGINE_DATABASE_URL=sqlite:////data/review-engine.db \
    REVIEW_ENGINE_DOCS_ENABLED=false \
    PORT=8000 \
    WORKERS=2 \
    MPLCONFIGDIR=/tmp/matplotlib
RUN groupadd --system --gid 10001 review-engine \
    && useradd --system --uid 10001 --gid review-engine --home-dir /data --create-home review-engine
# Exactly the runtime versions the tests ran: requirements.lock (scripts/lock writes it; the
# test lock holds the same pins), every file checked against its sha256, binary wheels only.
# Then the app's own wheel with --no-deps, so nothing is resolved a second time.
COPY requirements.lock /tmp/requirements.lock
RUN pip install --no-cache-dir --disable-pip-version-check --require-hashes --only-binary :all: \
        -r /tmp/requirements.lock \
    && rm /tmp/requirements.lock
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --disable-pip-version-check --no-deps /wheels/*.whl \
    && rm -rf /wheels \
    && pip check --disable-pip-version-check
USER review-engine
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
# Readiness, not mere liveness: /readyz answers 503 while the database is unreachable or not
# at the latest migration, so the container is unhealthy then. Same $PORT as the server.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request\ntry:\n    urllib.request.urlopen('http://127.0.0.1:%s/readyz' % os.environ.get('PORT', '8000'), timeout=4)\nexcept OSError as exc:\n    sys.exit(f'not ready: {exc}')"]
# Migrate first (a no-op at head; safe with several replicas, PostgreSQL takes an advisory
# lock), then serve on $PORT; exec replaces the shell so uvicorn itself receives SIGTERM.
CMD ["sh", "-c", "review-engine db upgrade && exec review-engine serve --host 0.0.0.0 --port \"${PORT:-8000}\" --workers \"${WORKERS:-2}\""]
