import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_schema_describes_every_endpoint_with_bearer_auth_and_the_error_shape(client):
    response = client.get("/api/schema/")

    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert set(schema["paths"]) == {
        "/api/campaigns",
        "/api/campaigns/{campaign_id}",
        "/api/contacts",
        "/api/contacts/{contact_id}",
        "/api/messages",
        "/api/messages/{message_id}",
        *(
            f"/api/campaigns/{{campaign_id}}/{action}"
            for action in (
                "upload",
                "schedule",
                "start",
                "pause",
                "resume",
                "cancel",
                "archive",
                "execute",
                "winner",
                "results",
                "preview",
                "members",
                "sends",
            )
        ),
        "/api/campaigns/{campaign_id}/members/{member_id}/approve",
        "/api/campaigns/{campaign_id}/members/{member_id}/retry",
        "/api/contacts/export.csv",
        "/api/contacts/{contact_id}/messages",
        "/api/conversations",
        "/api/import/csv",
        "/api/imports",
        "/api/imports/{import_id}",
        "/api/imports/{import_id}/rejections.csv",
    }
    assert schema["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}
    create = schema["paths"]["/api/campaigns"]["post"]
    assert set(create["responses"]) >= {"201", "401", "403", "422"}
    error = schema["components"]["schemas"]["Error"]
    assert set(error["properties"]) == {"detail"}
    patch = schema["paths"]["/api/campaigns/{campaign_id}"]["patch"]
    assert set(patch["responses"]) >= {"200", "404", "409", "422"}


def test_docs_page_renders(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    assert b"swagger-ui" in response.content


def test_schema_is_valid_openapi_and_generates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))

    assert "/api/campaigns" in (tmp_path / "schema.yml").read_text()
