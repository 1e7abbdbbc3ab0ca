"""A record the API is asked about that is not there: every operation with an id in its path
answers 404 in the error shape its schema gives (attackacrack/web/api.py: ErrorSerializer), for
the owner (who may call every one of them), whatever the body; never a 500, never another record."""

import re

import pytest

from tests.api_schema import api_schema
from tests.factories import CampaignFactory, ContactFactory

MISSING = 999_999_999


def operations_with_ids() -> list[tuple[str, str]]:
    paths = api_schema()["paths"]
    return [
        (method.upper(), path)
        for path, operations in paths.items()
        if "{" in path
        for method, operation in operations.items()
        if "404" in operation["responses"]
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), operations_with_ids())
def test_an_id_that_is_not_there_is_a_404_in_the_error_shape(owner_client, method, path):
    CampaignFactory()  # records there are, under other ids
    ContactFactory()
    url = re.sub(r"\{\w+\}", str(MISSING), path)

    response = owner_client.generic(method, url, data="{}", content_type="application/json")

    assert response.status_code == 404, (method, url, response.content[:300])
    [error] = response.json()["detail"]
    assert error["msg"]
