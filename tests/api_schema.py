"""The OpenAPI schema the API serves at /api/schema/ (to staff only), generated here without a
request, as plain JSON values: once a process, for the tests that read it. Read it, never change it."""

import functools
import json

from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer


@functools.cache
def api_schema() -> dict:
    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
