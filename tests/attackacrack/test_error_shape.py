"""The one error shape, for errors that the endpoints of this issue cannot yet provoke."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions

from attackacrack.web.api import exception_handler


def test_a_model_validation_error_becomes_a_422_naming_each_field():
    error = DjangoValidationError({"daily_limit": ["Too high."], "__all__": ["Templates clash."]})

    response = exception_handler(error, {})

    assert response.status_code == 422
    assert sorted((tuple(e["loc"]), e["msg"]) for e in response.data["detail"]) == [
        (("body",), "Templates clash."),
        (("body", "daily_limit"), "Too high."),
    ]


def test_a_model_validation_error_without_fields_is_about_the_whole_body():
    response = exception_handler(DjangoValidationError("Nothing to send."), {})

    assert response.status_code == 422
    assert response.data["detail"] == [{"loc": ["body"], "msg": "Nothing to send.", "type": "invalid"}]


def test_errors_inside_a_list_of_objects_are_located_by_index():
    error = exceptions.ValidationError({"contacts": [{}, {"phone": ["Not a phone."]}]})

    response = exception_handler(error, {})

    assert response.data["detail"] == [
        {"loc": ["body", "contacts", 1, "phone"], "msg": "Not a phone.", "type": "invalid"}
    ]


def test_an_unexpected_exception_is_left_to_django():
    assert exception_handler(RuntimeError("boom"), {}) is None
