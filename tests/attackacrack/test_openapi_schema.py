import pytest
import yaml
from django.core.management import call_command

from tests.factories import StaffUserFactory

pytestmark = pytest.mark.django_db


def test_schema_describes_every_endpoint_with_bearer_auth_and_the_error_shape(client, staff_user):
    client.force_login(staff_user)
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
                "follow-up",
            )
        ),
        "/api/campaigns/{campaign_id}/members/{member_id}/approve",
        "/api/campaigns/{campaign_id}/members/{member_id}/retry",
        "/api/contacts/export.csv",
        "/api/contacts/{contact_id}/messages",
        "/api/contacts/{contact_id}/compliance",
        "/api/contacts/{contact_id}/outcomes",
        "/api/contacts/{contact_id}/outcomes/{outcome_id}/corrections",
        "/api/contacts/{contact_id}/outcomes/{outcome_id}/withdrawal",
        "/api/contacts/{contact_id}/follow-ups",
        "/api/follow-ups",
        "/api/follow-ups/{member_id}/cancel",
        "/api/dnc-lists",
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


def test_every_endpoint_that_reads_a_body_documents_the_415_it_answers_to_another_content_type(client, staff_user):
    client.force_login(staff_user)
    schema = yaml.safe_load(client.get("/api/schema/").content)
    with_body = [
        (path, method)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if "requestBody" in operation
    ]
    assert ("/api/import/csv", "post") in with_body
    for path, method in with_body:
        documented = schema["paths"][path][method]["responses"]["415"]
        assert documented["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}

    response = client.post("/api/import/csv", data=b"name,phone", content_type="text/csv")

    assert response.status_code == 415
    assert response.json()["detail"][0]["type"] == "unsupported_media_type"


def test_docs_page_renders_its_script_from_a_file_as_the_content_security_policy_requires(client, staff_user):
    client.force_login(staff_user)
    response = client.get("/api/docs/")

    assert response.status_code == 200
    assert b"swagger-ui" in response.content
    assert b"<script>" not in response.content
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and b"SwaggerUIBundle" in script.content


@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/", "/api/docs/?script="])
def test_the_schema_and_docs_need_the_same_staff_sign_in_as_the_api(client, path):
    anonymous = client.get(path)
    client.force_login(StaffUserFactory(is_staff=False, username="customer"))
    not_staff = client.get(path)

    assert anonymous.status_code == 401
    assert not_staff.status_code == 403
    for refused in (anonymous, not_staff):
        assert b"/api/campaigns" not in refused.content and b"SwaggerUIBundle" not in refused.content


def test_schema_is_valid_openapi_and_generates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))

    assert "/api/campaigns" in (tmp_path / "schema.yml").read_text()
