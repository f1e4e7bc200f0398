"""The public withdrawal pages (no account) and the printable consent form with its withdrawal link.

The request page answers the same whatever was typed, so it tells nobody whether a reference
exists or a birth date is right; each address and each reference may ask ROUNDS_WITHDRAWAL_RATE
times per ROUNDS_WITHDRAWAL_RATE_WINDOW seconds.
"""

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from consent import selectors
from consent.forms import WithdrawalConfirmForm, WithdrawalRequestForm
from consent.models import ConsentPlatform, ConsentPurpose, ConsentRecord, MediaKind
from consent.policy import ConsentPolicy
from consent.views import forbidden
from consent.withdrawal import withdrawal_confirm, withdrawal_form_url, withdrawal_link_record, withdrawal_request
from consent.withdrawal_check import WithdrawalLinkInvalid, reference_normalise
from people.http import AuthedHttpRequest
from people.lockout import client_ip

# Every page here is about one person's consent: never kept by a browser or a proxy.
_NO_STORE = "private, no-store"


def _contact() -> dict[str, str]:
    return {"contact": settings.ROUNDS_CONSENT_CONTACT, "organisation": settings.ROUNDS_ORGANISATION_NAME}


def _counted_over(key: str) -> bool:
    """Count one attempt under ``key``; True once the window's allowance is spent."""
    window = settings.ROUNDS_WITHDRAWAL_RATE_WINDOW
    cache.add(key, 0, window)
    try:
        return int(cache.incr(key)) > settings.ROUNDS_WITHDRAWAL_RATE
    except ValueError:  # the window ended between add and incr
        cache.add(key, 1, window)
        return False


def _over_rate(request: HttpRequest, reference: str) -> bool:
    """Count this attempt against the client's address and the reference typed; True if either is spent."""
    by_address = _counted_over(f"consent.withdraw.ip.{client_ip(request) or '-'}")
    typed = reference_normalise(reference) or reference.strip().upper()[:40]
    by_reference = _counted_over(f"consent.withdraw.ref.{typed}") if typed else False
    return by_address or by_reference


def _page(request: HttpRequest, template: str, context: dict[str, object], status: int = 200) -> HttpResponse:
    response = render(request, f"consent/withdrawal/{template}", {**_contact(), **context}, status=status)
    response["Cache-Control"] = _NO_STORE
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def withdrawal_start_view(request: HttpRequest) -> HttpResponse:
    """Ask for the form reference, the birth date and an address; mail a confirmation link if they match."""
    if request.method != "POST":
        form = WithdrawalRequestForm(initial={"reference": request.GET.get("ref", "")[:40]})
        return _page(request, "start.html", {"form": form})
    if _over_rate(request, str(request.POST.get("reference", ""))):
        window_minutes = max(1, settings.ROUNDS_WITHDRAWAL_RATE_WINDOW // 60)
        response = _page(request, "too_many.html", {"minutes": window_minutes}, status=429)
        response["Retry-After"] = str(settings.ROUNDS_WITHDRAWAL_RATE_WINDOW)
        return response
    form = WithdrawalRequestForm(request.POST)
    if not form.is_valid():
        return _page(request, "start.html", {"form": form}, status=400)
    withdrawal_request(
        reference=form.cleaned_data["reference"], born=form.cleaned_data["born"], email=form.cleaned_data["email"]
    )
    return redirect("withdrawal:sent")


@never_cache
@require_GET
def withdrawal_sent_view(request: HttpRequest) -> HttpResponse:
    """Say, the same for every request, what happens next."""
    hours = settings.ROUNDS_WITHDRAWAL_LINK_HOURS
    return _page(request, "sent.html", {"hours": hours})


@never_cache
@require_http_methods(["GET", "POST"])
def withdrawal_confirm_view(request: HttpRequest, token: str) -> HttpResponse:
    """Show the confirm button (GET changes nothing, so mail scanners withdraw nothing); POST withdraws."""
    try:
        record = withdrawal_link_record(token)
    except WithdrawalLinkInvalid:
        return _page(request, "invalid.html", {}, status=400)
    if record.revoked_at is not None:
        return _page(request, "done.html", {"already": True})
    form = WithdrawalConfirmForm(request.POST if request.method == "POST" else None)
    if request.method != "POST":
        return _page(request, "confirm.html", {"form": form, "reference": record.form_reference})
    if not form.is_valid():
        return _page(request, "confirm.html", {"form": form, "reference": record.form_reference}, status=400)
    try:
        withdrawal_confirm(token=token, reason=form.cleaned_data["reason"])
    except WithdrawalLinkInvalid:
        return _page(request, "invalid.html", {}, status=400)
    except ValidationError as error:
        if getattr(error, "code", None) == "already_revoked":
            return _page(request, "done.html", {"already": True})
        form.add_error(None, error)
        return _page(request, "confirm.html", {"form": form, "reference": record.form_reference}, status=400)
    return _page(request, "done.html", {"already": False})


# The printable form ---------------------------------------------------------------------------


def qr_svg(text: str) -> str:
    """Return an inline SVG QR code of ``text`` (no external asset, no style attribute)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, border=2)
    svg: str = image.to_string(encoding="unicode")
    # The XML declaration is not allowed inside HTML.
    return svg[svg.index("<svg") :]


def _labels(values: list[str], choices: type[MediaKind] | type[ConsentPlatform] | type[ConsentPurpose]) -> list[str]:
    return [str(choices(value).label) if value in choices.values else value for value in values]


@require_GET
@login_required
def record_print_view(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """The consent form to print for the person: scope, statements, reference and the withdrawal link with a QR code."""
    if not ConsentPolicy(request.user).may_open_registry:
        return forbidden(request, _("The consent registry is for Consent officers."))
    try:
        record: ConsentRecord = selectors.record_for_registry(pk=pk)
    except ConsentRecord.DoesNotExist as exc:
        raise Http404 from exc
    url = withdrawal_form_url(record)
    context = {
        "record": record,
        "subject": record.subject,
        "media_kinds": _labels(record.media_kinds, MediaKind),
        "platforms": _labels(record.platforms, ConsentPlatform),
        "purposes": _labels(record.purposes, ConsentPurpose),
        "signers": list(record.signers.all()),
        "withdrawal_url": url,
        # Made here from our own URL: nothing a user typed reaches the markup.
        "qr": mark_safe(qr_svg(url)),  # noqa: S308
        "online": bool(record.withdrawal_check or record.subject.date_of_birth),
        **_contact(),
    }
    response = render(request, "consent/record_print.html", context)
    response["Cache-Control"] = _NO_STORE
    return response
