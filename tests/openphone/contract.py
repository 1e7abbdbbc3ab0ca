"""OpenPhone's published OpenAPI file as the judge of our client and of every fake of OpenPhone.

``check_exchange`` validates one HTTP exchange with openapi-core: the request (path, method, the
``Authorization`` header of the file's only security scheme, query serialisation, JSON body)
against the operation it names, and the answer against that operation's response schema for
its status. A client or a fake that drifts from the file fails here, not in production.

The file is vendored beside this module (`scripts/check-vendored-spec` compares it with the shared
spec it came from). It describes OpenPhone's application; in front of it stands the gateway the
same file configures (``x-kong-plugin-rate-limiting``: 10 requests a second; Kong's upstream
timeouts), whose answers the operations do not list: 429, and 502/503/504. Those are accepted as
the gateway's ``{"message": ...}`` bodies; any other status an operation does not list is a
violation.
"""

import json
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlparse

import requests
from openapi_core import Config, OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

SPEC_FILE = Path(__file__).with_name("openphone-openapi-v1.json")
GATEWAY_STATUSES = frozenset({429, 502, 503, 504})
SPEC_SERVER = json.loads(SPEC_FILE.read_text())["servers"][0]["url"]


class ContractViolation(AssertionError):
    """An exchange that OpenPhone's published file does not allow."""


@lru_cache(maxsize=1)
def openapi() -> OpenAPI:
    # The file's schemas carry a few `examples` that are not arrays, which the strict meta-schema
    # check refuses; the request and response schemas themselves are sound and are what is used.
    return OpenAPI.from_file_path(str(SPEC_FILE), config=Config(spec_validator_cls=None))


def _documented_statuses(request: requests.PreparedRequest) -> set[int]:
    path, method = urlparse(request.url).path, request.method.lower()
    for template, methods in _operations().items():
        if _path_matches(template, path) and method in methods:
            return methods[method]
    raise ContractViolation(f"OpenPhone's API has no {request.method} {path}")


@lru_cache(maxsize=1)
def _operations() -> dict[str, dict[str, set[int]]]:
    document = json.loads(SPEC_FILE.read_text())
    return {
        path: {method: {int(status) for status in operation["responses"]} for method, operation in methods.items()}
        for path, methods in document["paths"].items()
    }


def _path_matches(template: str, path: str) -> bool:
    parts, given = template.strip("/").split("/"), path.strip("/").split("/")
    return len(parts) == len(given) and all(
        part.startswith("{") or part == value for part, value in zip(parts, given, strict=True)
    )


def _describe(error: Exception) -> str:
    details = [str(error)]
    cause = error.__cause__
    for schema_error in getattr(cause, "schema_errors", None) or []:
        details.append(f"  - {schema_error.message} at {'/'.join(map(str, schema_error.absolute_path)) or 'the body'}")
    if cause is not None and not getattr(cause, "schema_errors", None):
        details.append(f"  - {cause}")
    return "\n".join(details)


def check_exchange(request: requests.PreparedRequest, response: requests.Response | None) -> None:
    """Raise ContractViolation unless the file allows this request and, when there is one, its answer.

    The host is not judged: the base URL is ours to point at a fake (OPENPHONE_API_URL).
    """
    where = f"{request.method} {request.url}"
    request = request.copy()
    request.url = SPEC_SERVER + request.path_url
    openapi_request = RequestsOpenAPIRequest(request)
    try:
        openapi().validate_request(openapi_request)
    except Exception as error:
        raise ContractViolation(f"Request {where}: {_describe(error)}") from error
    if response is None:  # a timeout or a dropped connection: nothing came back to check
        return
    status = response.status_code
    if status not in _documented_statuses(request):
        if status in GATEWAY_STATUSES:
            try:
                body = response.json()
            except ValueError as error:
                raise ContractViolation(f"Answer {status} to {where}: the gateway answers JSON") from error
            if not (isinstance(body, dict) and isinstance(body.get("message"), str)):
                raise ContractViolation(f"Answer {status} to {where}: the gateway's body is {{'message': ...}}")
            return
        raise ContractViolation(f"Answer {status} to {where}: the file lists no such answer for this operation")
    try:
        openapi().validate_response(openapi_request, RequestsOpenAPIResponse(response))
    except Exception as error:
        raise ContractViolation(f"Answer {status} to {where}: {_describe(error)}") from error


def check_calls(calls) -> None:
    """Every call a ``responses`` mock saw, each checked; one error naming all that failed."""
    violations = []
    for call in calls:
        response = call.response if isinstance(call.response, requests.Response) else None
        try:
            check_exchange(call.request, response)
        except ContractViolation as violation:
            violations.append(str(violation))
    if violations:
        raise ContractViolation("OpenPhone's published API does not allow:\n" + "\n".join(violations))
