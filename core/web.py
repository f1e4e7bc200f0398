"""Web plumbing: the request id on every log line and error page, and the error pages themselves.

The error pages are rendered from templates that need no database, no session and no context
processor (``templates/error_base.html``), so they still render while the database is down. A
database that cannot be reached, or a statement that ran out of time, answers 503 with
Retry-After instead of 500 (``server_error``), wherever it was raised below the middleware that
installs the handlers: sessions, authentication or a view.

The request plumbing every app's views share lives here too: the safe ``next`` check
(``safe_next``), a service's errors on a form (``form_errors_add``) or as messages
(``error_messages``, ``report_error``), and ``service_action``, which runs a service call and
turns its refusal into messages, errors on a form, a 403 page, the view's 409 page or a JSON
error, instead of the hand-written ``except`` block each view had.
"""

import contextvars
import logging
import re
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.signals import request_finished
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

HEADER = "X-Request-ID"
NO_REQUEST = "-"
# An incoming id is kept only when it is short and plain (it goes into log lines and a page).
_SANE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("rounds_request_id", default=NO_REQUEST)
_request_memo: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "rounds_request_memo", default=None
)

logger = logging.getLogger(__name__)


def current_request_id() -> str:
    """Return the id of the request being handled, or "-" outside a request."""
    return _request_id.get()


def request_memo() -> dict[str, Any] | None:
    """Return the request's own dict for what is read once per request and asked for deep below the view.

    None outside a request (a task, the shell, a management command): there, read afresh.
    """
    return _request_memo.get()


def request_id_for(incoming: str | None) -> str:
    """Return ``incoming`` when it is a sane id (from a proxy or a load balancer), else a new one."""
    if incoming and _SANE_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Give every log record the current request's id as ``request_id`` (for the log format)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        return True


class RequestIdMiddleware:
    """Name each request: honour a sane incoming X-Request-ID, else make one; answer with it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_for(request.headers.get(HEADER))
        request.request_id = request_id  # type: ignore[attr-defined]
        # Not reset on the way out: Django logs 4xx/5xx answers after the middleware returns;
        # request_finished clears it when the response is closed.
        _request_id.set(request_id)
        _request_memo.set({})
        response = self.get_response(request)
        response.headers[HEADER] = request_id
        return response


def _request_finished(**kwargs: Any) -> None:
    _request_id.set(NO_REQUEST)
    _request_memo.set(None)


request_finished.connect(_request_finished, dispatch_uid="core.web.request_finished")


def _database_down(error: BaseException | None) -> bool:
    """Return whether ``error``, or an exception it arose from, says the database cannot be used now."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, OperationalError | InterfaceError):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


_FALLBACK = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title} · Rounds</title></head>'
    "<body><h1>{title}</h1><p>{message}</p><p>Request id: <code>{request_id}</code></p></body></html>"
)


def render_error(request: HttpRequest, *, template: str, status: int, title: str, message: str = "") -> HttpResponse:
    """Render an error page without the request's context processors (they may query the database)."""
    request_id = getattr(request, "request_id", None) or current_request_id()
    context = {"title": title, "message": message, "request_id": request_id, "status": status}
    try:
        body = loader.get_template(template).render(context)
    except Exception:
        # An error page that fails would hide the first error behind a bare one; say it plainly.
        logger.exception("The error page %s could not be rendered", template)
        body = _FALLBACK.format(title=title, message=message, request_id=request_id)
    return HttpResponse(body, status=status, content_type="text/html; charset=utf-8")


def maintenance(request: HttpRequest) -> HttpResponse:
    """Return the 503 page: the database is unreachable; the browser is asked to retry later."""
    response = render_error(
        request,
        template="503.html",
        status=503,
        title=_("Rounds is briefly unavailable"),
        message=_(
            "Rounds cannot reach its database right now, so what you sent may not have been saved. "
            "Please try again in a minute."
        ),
    )
    response.headers["Retry-After"] = str(settings.ROUNDS_MAINTENANCE_RETRY_AFTER)
    response.headers["Cache-Control"] = "no-store"
    return response


def forbidden(request: HttpRequest, message: str) -> HttpResponse:
    """Return a 403 page in the site's layout that says why (a refusal the user can understand)."""
    return render(request, "forbidden.html", {"message": message}, status=403)


class Conflict(ValidationError):
    """A refusal the view answers itself (409 with the page as it is now): never made a message.

    ``service_action`` answers it with the view's own answer (``conflict=``), else re-raises it.
    """


def safe_next(request: HttpRequest, default: str, *, candidate: str | None = None) -> str:
    """Return where to go back to: ``candidate`` (the POSTed ``next`` unless given) when it is
    a path or URL of this site, else ``default`` (never an open redirect to another host)."""
    target = request.POST.get("next", "") if candidate is None else candidate
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def error_messages(error: ValidationError | PermissionDenied, *, refused: str | None = None) -> list[str]:
    """Return what to tell the user about a service's error: the ValidationError's messages, or
    the PermissionDenied's text (``refused``, default "You may not do this.", when it has none)."""
    if isinstance(error, ValidationError):
        return [str(message) for message in error.messages]
    return [str(error) or (refused if refused is not None else _("You may not do this."))]


def report_error(
    request: HttpRequest,
    error: ValidationError | PermissionDenied,
    *,
    joined: bool = False,
    refused: str | None = None,
) -> None:
    """Add a service's error to the request's messages: one message each, or all in one (``joined``)."""
    texts = error_messages(error, refused=refused)
    for text in [" ".join(texts)] if joined else texts:
        messages.error(request, text)


# The code a service's refusal (PermissionDenied) has on a form, for ``code_fields`` to place it.
DENIED = "denied"


def form_errors_add(form: forms.Form, error: ValidationError, *, code_fields: Mapping[str, str] | None = None) -> None:
    """Attach a service's ValidationError to the form fields it names, the rest to the whole form.

    ``code_fields`` maps an error code to the field an error without a field belongs to (the upload
    for a document's errors), when the form has that field.
    """
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return
    fallback = (code_fields or {}).get(str(getattr(error, "code", None)))
    form.add_error(fallback if fallback is not None and fallback in form.fields else None, error)


class ServiceCall:
    """What ``service_action`` tells the view: whether the call went through (``ok``), its error, and
    the answer to return as it is (``response``: a 403 or 409 page, a JSON error), if the error has one."""

    def __init__(self) -> None:
        self.error: ValidationError | PermissionDenied | None = None
        self.response: HttpResponse | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


_C = TypeVar("_C", bound=Conflict)


def _refusal(
    request: HttpRequest,
    error: ValidationError | PermissionDenied,
    *,
    joined: bool,
    refused: str | None,
    form: forms.Form | None,
    code_fields: Mapping[str, str] | None,
    denied: Callable[[HttpRequest, str], HttpResponse] | None,
    as_json: bool,
) -> HttpResponse | None:
    """Tell the user about a service's error the way the view asked; return the answer, if it is one."""
    texts = error_messages(error, refused=refused)
    is_denied = isinstance(error, PermissionDenied)
    if as_json:
        return JsonResponse({"ok": False, "errors": texts}, status=403 if is_denied else 400)
    if is_denied and denied is not None:
        return denied(request, texts[0])
    if form is not None:
        on_form = error if isinstance(error, ValidationError) else ValidationError(texts[0], code=DENIED)
        form_errors_add(form, on_form, code_fields=code_fields)
        return None
    report_error(request, error, joined=joined, refused=refused)
    return None


@contextmanager
def service_action(
    request: HttpRequest,
    *,
    success: str | None = None,
    joined: bool = False,
    catch: tuple[type[Exception], ...] = (ValidationError, PermissionDenied),
    refused: str | None = None,
    form: forms.Form | None = None,
    code_fields: Mapping[str, str] | None = None,
    denied: Callable[[HttpRequest, str], HttpResponse] | None = None,
    conflict: tuple[type[_C], Callable[[_C], HttpResponse]] | None = None,
    as_json: bool = False,
) -> Iterator[ServiceCall]:
    """Run the service call in the ``with`` block; a refusal becomes messages, not an error page.

    A ``ValidationError`` or ``PermissionDenied`` (those in ``catch``) raised in the block is reported
    with ``report_error`` and swallowed; ``call.ok`` is then False. Without one, ``success`` (if given)
    is added as a success message. The view redirects after the block as before::

        with service_action(request, success=_("Submitted for review.")):
            round_submit(post=post, actor=request.user)
        return _back(request, post)

    A view that answers otherwise says how, and returns ``call.response`` when it is set:

    - ``form``: a ValidationError goes onto the form's fields (``form_errors_add`` with
      ``code_fields``), a PermissionDenied onto the form as a whole (or the field ``code_fields``
      maps ``DENIED`` to); the view renders the form again.
    - ``denied``: a PermissionDenied is answered with ``denied(request, text)`` (a 403 page).
    - ``conflict``: ``(StaleVersion, answer)``: a stale save of that kind is answered with
      ``answer(stale)`` (the view's 409 page). Without it a ``Conflict`` is never swallowed.
    - ``as_json``: the error is answered as ``{"ok": false, "errors": [...]}``, 400 for a
      ValidationError and 403 for a PermissionDenied, instead of messages.

    ``refused`` is the text for a PermissionDenied that has none.
    """
    call = ServiceCall()
    try:
        yield call
    except Conflict as error:
        if conflict is None:
            raise
        kind, answer = conflict
        if not isinstance(error, kind):
            raise
        call.error = error
        call.response = answer(error)
        return
    except catch as error:
        if not isinstance(error, ValidationError | PermissionDenied):
            raise
        call.error = error
        call.response = _refusal(
            request,
            error,
            joined=joined,
            refused=refused,
            form=form,
            code_fields=code_fields,
            denied=denied,
            as_json=as_json,
        )
        return
    if success is not None:
        messages.success(request, success)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render_error(
        request,
        template="400.html",
        status=400,
        title=_("Bad request"),
        message=_("Rounds could not understand what your browser sent."),
    )


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render_error(
        request,
        template="403.html",
        status=403,
        title=_("Not allowed"),
        message=_("Your role does not allow this. Ask a colleague with the right role, or Governance."),
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """Return the 403 page for a form whose security token expired or is missing (CSRF_FAILURE_VIEW)."""
    return render_error(
        request,
        template="403.html",
        status=403,
        title=_("This form has expired"),
        message=_(
            "Go back, reload the page and send the form again. This happens when a page was open for a long "
            "time, or after you logged in elsewhere."
        ),
    )


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render_error(
        request,
        template="404.html",
        status=404,
        title=_("Page not found"),
        message=_("This page does not exist, or you may not see it."),
    )


def server_error(request: HttpRequest) -> HttpResponse:
    """Return the 500 page, or the 503 page when the error is the database being unreachable.

    Django calls this inside the ``except`` that caught the error, so ``sys.exc_info`` names it.
    """
    error: BaseException | None = sys.exc_info()[1]
    if _database_down(error):
        return maintenance(request)
    return render_error(
        request,
        template="500.html",
        status=500,
        title=_("Something went wrong"),
        message=_("Rounds made an error and did not finish. The team can find it in the log by the request id below."),
    )
