"""The request plumbing in core/web.py: service_action, safe_next and form_errors_add."""

import json
from typing import Any

import pytest
from django import forms
from django.contrib.messages import constants, get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from audit.versions import StaleVersion
from core.web import DENIED, Conflict, form_errors_add, safe_next, service_action


def _request(data: dict[str, str] | None = None, *, secure: bool = False) -> HttpRequest:
    request = RequestFactory().post("/somewhere/", data or {}, secure=secure)
    request.session = SessionStore()
    request._messages = FallbackStorage(request)  # type: ignore[attr-defined]
    return request


def _said(request: HttpRequest) -> list[tuple[int, str]]:
    return [(message.level, message.message) for message in get_messages(request)]


def _raise(error: Exception) -> None:
    raise error


# service_action ---------------------------------------------------------------------------


def test_a_call_that_goes_through_adds_the_success_message() -> None:
    request = _request()
    with service_action(request, success="Done.") as call:
        pass
    assert call.ok and call.error is None
    assert _said(request) == [(constants.SUCCESS, "Done.")]


def test_without_a_success_message_nothing_is_said() -> None:
    request = _request()
    with service_action(request) as call:
        pass
    assert call.ok
    assert _said(request) == []


def test_a_validation_error_becomes_one_error_message_per_message_and_no_success() -> None:
    request = _request()
    with service_action(request, success="Done.") as call:
        _raise(ValidationError(["Too late to change.", "The chain is missing."]))
    assert not call.ok
    assert isinstance(call.error, ValidationError)
    assert _said(request) == [(constants.ERROR, "Too late to change."), (constants.ERROR, "The chain is missing.")]


def test_joined_puts_all_messages_in_one() -> None:
    request = _request()
    with service_action(request, joined=True):
        _raise(ValidationError({"reason": ["Give a reason."], "date": ["Not in the future."]}))
    assert _said(request) == [(constants.ERROR, "Give a reason. Not in the future.")]


def test_a_permission_denied_says_its_text_or_a_plain_refusal() -> None:
    request = _request()
    with service_action(request, success="Done.") as call:
        _raise(PermissionDenied("Only Governance may do this."))
    with service_action(request):
        _raise(PermissionDenied())
    assert isinstance(call.error, PermissionDenied)
    assert _said(request) == [
        (constants.ERROR, "Only Governance may do this."),
        (constants.ERROR, "You may not do this."),
    ]


@pytest.mark.parametrize(
    "error",
    [
        StaleVersion("changed by Ann at 10:00", version=3, name="Ann", when=None, changes=[]),
        Conflict("changed meanwhile"),
    ],
)
def test_a_stale_save_is_never_swallowed(error: ValidationError) -> None:
    request = _request()
    with pytest.raises(type(error)) as raised, service_action(request, success="Done."):
        _raise(error)
    assert raised.value is error
    assert _said(request) == []


def test_an_error_outside_catch_and_any_other_error_pass_through() -> None:
    request = _request()
    with pytest.raises(PermissionDenied), service_action(request, catch=(ValidationError,)):
        _raise(PermissionDenied("no"))
    with pytest.raises(KeyError), service_action(request, success="Done."):
        _raise(KeyError("bug"))
    assert _said(request) == []


def test_on_a_form_a_validation_error_goes_to_the_fields_it_names_and_no_message_is_said() -> None:
    request = _request()
    form: Any = _bound()
    with service_action(request, success="Saved.", form=form) as call:
        _raise(ValidationError({"title": ["Too long."], "campaign": ["Closed."]}))
    assert not call.ok and call.response is None
    assert form.errors == {"title": ["Too long."], "__all__": ["Closed."]}
    assert _said(request) == []


def test_on_a_form_a_refusal_goes_to_the_form_or_to_the_field_denied_is_mapped_to() -> None:
    plain: Any = _bound()
    with service_action(_request(), form=plain) as call:
        _raise(PermissionDenied("Not your campaign."))
    assert isinstance(call.error, PermissionDenied) and call.response is None
    assert plain.errors == {"__all__": ["Not your campaign."]}
    placed: Any = _bound()
    with service_action(_request(), form=placed, code_fields={DENIED: "title"}, refused="You may not."):
        _raise(PermissionDenied())
    assert placed.errors == {"title": ["You may not."]}


def test_denied_answers_a_refusal_with_the_views_page_and_a_validation_error_stays_on_the_form() -> None:
    def page(request: HttpRequest, message: str) -> HttpResponse:
        return HttpResponse(f"Refused: {message}", status=403)

    request = _request()
    form: Any = _bound()
    with service_action(request, success="Saved.", form=form, denied=page) as call:
        _raise(PermissionDenied("Only the campaign's owner may change it."))
    assert call.response is not None and call.response.status_code == 403
    assert call.response.content.decode() == "Refused: Only the campaign's owner may change it."
    assert form.errors == {}
    with service_action(request, form=form, denied=page) as again:
        _raise(ValidationError({"title": ["Too long."]}))
    assert again.response is None and form.errors == {"title": ["Too long."]}
    assert _said(request) == []


def test_a_stale_save_of_the_kind_named_is_answered_by_the_views_answer() -> None:
    stale = StaleVersion("changed by Ann at 10:00", version=3, name="Ann", when=None, changes=[])
    answered: list[StaleVersion] = []

    def answer(error: StaleVersion) -> HttpResponse:
        answered.append(error)
        return HttpResponse(error.message, status=409)

    request = _request()
    form: Any = _bound()
    with service_action(request, success="Saved.", form=form, conflict=(StaleVersion, answer)) as call:
        _raise(stale)
    assert answered == [stale] and call.error is stale
    assert call.response is not None and call.response.status_code == 409
    assert form.errors == {} and _said(request) == []
    other = Conflict("changed meanwhile")
    with pytest.raises(Conflict) as raised, service_action(request, conflict=(StaleVersion, answer)):
        _raise(other)
    assert raised.value is other and answered == [stale]


@pytest.mark.parametrize(
    ("error", "status", "errors"),
    [
        (ValidationError(["Enter a date.", "Enter a time."]), 400, ["Enter a date.", "Enter a time."]),
        (PermissionDenied("Published posts stay where they are."), 403, ["Published posts stay where they are."]),
        (PermissionDenied(), 403, ["You may not move this post."]),
    ],
)
def test_as_json_answers_the_errors_with_400_or_403_and_says_nothing_else(
    error: Exception, status: int, errors: list[str]
) -> None:
    request = _request()
    with service_action(request, success="Moved.", refused="You may not move this post.", as_json=True) as call:
        _raise(error)
    assert call.response is not None and call.response.status_code == status
    assert json.loads(call.response.content) == {"ok": False, "errors": errors}
    assert _said(request) == []


def test_a_refusal_as_a_message_says_refused_when_it_has_no_text() -> None:
    request = _request()
    with service_action(request, refused="You may not move this post."):
        _raise(PermissionDenied())
    assert _said(request) == [(constants.ERROR, "You may not move this post.")]


# safe_next --------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["/posts/3/", "/calendar/?month=2026-12#day-4", "http://testserver/posts/"])
def test_safe_next_keeps_a_target_on_this_site(target: str) -> None:
    assert safe_next(_request({"next": target}), "/fallback/") == target


@pytest.mark.parametrize(
    "target",
    ["", "https://evil.example/", "//evil.example/path", "javascript:alert(1)", "http:///evil.example", "\\\\evil"],
)
def test_safe_next_refuses_another_host_or_nothing(target: str) -> None:
    assert safe_next(_request({"next": target}), "/fallback/") == "/fallback/"


def test_safe_next_on_https_refuses_a_plain_http_url_of_the_site() -> None:
    request = _request({"next": "http://testserver/posts/"}, secure=True)
    assert safe_next(request, "/fallback/") == "/fallback/"
    assert safe_next(request, "/fallback/", candidate="/posts/") == "/posts/"


def test_safe_next_reads_the_candidate_given_instead_of_the_post() -> None:
    request = _request({"next": "/from-post/"})
    assert safe_next(request, "/fallback/", candidate="https://evil.example/") == "/fallback/"
    assert safe_next(request, "/fallback/", candidate="/given/") == "/given/"


# form_errors_add --------------------------------------------------------------------------


class _Form(forms.Form):
    title = forms.CharField(required=False)
    document = forms.FileField(required=False)


def _bound() -> _Form:
    form = _Form(data={})
    assert form.is_valid()
    return form


def test_form_errors_go_to_the_fields_they_name_and_the_rest_to_the_form() -> None:
    form = _bound()
    form_errors_add(form, ValidationError({"title": ["Too long."], "campaign": ["Closed."]}))
    assert form.errors == {"title": ["Too long."], "__all__": ["Closed."]}


def test_a_form_error_without_a_field_goes_to_the_form_unless_its_code_names_one() -> None:
    plain: Any = _bound()
    form_errors_add(plain, ValidationError("Unreadable file.", code="unreadable"))
    assert plain.errors == {"__all__": ["Unreadable file."]}
    mapped: Any = _bound()
    form_errors_add(
        mapped, ValidationError("Unreadable file.", code="unreadable"), code_fields={"unreadable": "document"}
    )
    assert mapped.errors == {"document": ["Unreadable file."]}
    missing_field: Any = _bound()
    form_errors_add(missing_field, ValidationError("Bad.", code="bad"), code_fields={"bad": "nowhere"})
    assert missing_field.errors == {"__all__": ["Bad."]}
