import pytest


@pytest.fixture
def broker_at(celery_settings):
    """Point the Celery app at another broker for one test."""
    return lambda url: celery_settings(broker_url=url)


@pytest.mark.django_db
def test_healthz_is_ok_when_database_and_broker_answer(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "broker": "ok",
        "webhooks": "ok",
        "sending": "ok",
        "webhook_keys": "ok",
        "webhook_events": "ok",
        "imports": "ok",
        "texts": "ok",
    }
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_names_the_broker_when_it_is_down(client, broker_at):
    broker_at("redis://127.0.0.1:1/0")  # nothing listens on port 1

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert (response.json()["database"], response.json()["broker"]) == ("ok", "down")


def test_healthz_names_the_database_when_it_is_down(client):
    # Without the db fixture pytest-django refuses every connection: the database is "down".
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert (response.json()["database"], response.json()["broker"]) == ("down", "ok")


def test_healthz_needs_no_login_and_takes_only_get(client):
    assert client.post("/healthz").status_code == 405
