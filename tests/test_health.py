"""Liveness, readiness, and the docs switch."""

from fastapi.testclient import TestClient

from review_engine.app import create_app
from review_engine.settings import Settings


def test_healthz_needs_no_key(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_ok_on_a_migrated_database(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "alerts": {
            "last_run_at": None,
            "last_run_as_of": None,
            "pending_deliveries": 0,
            "failed_deliveries": 0,
            "runner": None,
        },
    }


def test_readyz_is_503_before_migrations(blank_database_url: str) -> None:
    app = create_app(Settings(_env_file=None, database_url=blank_database_url))  # type: ignore[call-arg]
    with TestClient(app) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/service-unavailable"
    assert "migration" in response.json()["detail"]


def test_readyz_is_503_when_the_database_does_not_answer(tmp_path: object) -> None:
    # A SQLite path inside a missing directory cannot be opened.
    url = "sqlite:////nonexistent-dir/review-engine.db"
    with TestClient(create_app(Settings(_env_file=None, database_url=url))) as client:  # type: ignore[call-arg]
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["detail"] == "The database is not answering."


def test_docs_can_be_switched_off(database_url: str) -> None:
    settings = Settings(_env_file=None, database_url=database_url, docs_enabled=False)  # type: ignore[call-arg]
    with TestClient(create_app(settings)) as client:
        assert client.get("/docs").status_code == 404
        assert client.get("/openapi.json").status_code == 404
        assert client.get("/healthz").status_code == 200


def test_docs_are_served_when_enabled(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    document = client.get("/openapi.json").json()
    assert document["components"]["schemas"]["Problem"]["title"] == "Problem"
    operation_ids = {
        operation["operationId"]
        for path in document["paths"].values()
        for operation in path.values()
    }
    assert "partnerships-create_partnership" in operation_ids
