"""The consent registry for Consent officers: lists, subject and record pages, forms and downloads.

Views parse input and call services; who may do what is consent.policy's answer.
"""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from audit.versions import StaleVersion, version_of, version_parse
from consent import selectors
from consent.forms import (
    DOCUMENT_ERROR_FIELDS,
    ConsentRecordForm,
    CopyGivenForm,
    RegistrySearchForm,
    RevokeForm,
    SubjectEraseForm,
    SubjectForm,
)
from consent.gate import signer_problem
from consent.law import LawNotes, law_notes
from consent.models import (
    ConsentPlatform,
    ConsentPurpose,
    ConsentRecord,
    ConsentState,
    MediaKind,
    Subject,
    consent_day,
)
from consent.policy import (
    CHANGE_SUBJECT,
    COPY_GIVEN,
    ERASE_SUBJECT,
    EXPORT_FHIR,
    EXPORT_SUBJECT,
    RECORD,
    REGISTER_SUBJECT,
    REVOKE,
    VERIFY,
    VIEW,
    VIEW_DOCUMENT,
    ConsentPolicy,
)
from consent.rows import RegistryRow, registry_rows
from consent.services import (
    SUBJECT_FIELDS,
    consent_copy_given_record,
    consent_fhir_bundle_export,
    consent_fhir_export,
    consent_record_create,
    consent_revoke,
    consent_verify,
    document_open,
    subject_create,
    subject_erase,
    subject_export,
)
from consent.services import subject_update as subject_update_service
from consent.stale import record_version_check
from core.filters import valid_filters
from core.pagination import page_of
from core.web import current_request_id, service_action
from people.http import AuthedHttpRequest
from people.twofactor import sensitive_view

NAV = "consent"


def forbidden(request: HttpRequest, message: str) -> HttpResponse:
    """Return a 403 page in the site's layout that says why."""
    return render(request, "consent/forbidden.html", {"message": message, "nav": NAV}, status=403)


def _registry_denied(request: HttpRequest) -> HttpResponse | None:
    if ConsentPolicy(request.user).may_open_registry:
        return None
    return forbidden(request, _("The consent registry is for Consent officers."))


def _labels(values: list[str], choices: type[models.TextChoices]) -> list[str]:
    """Return the display labels of stored choice values (unknown values as stored)."""
    return [str(choices(value).label) if value in choices.values else value for value in values]


def _subject_or_404(pk: int) -> Subject:
    try:
        return selectors.subject_for_registry(pk=pk)
    except Subject.DoesNotExist as exc:
        raise Http404 from exc


def _law_notes(subject: Subject, records: list[ConsentRecord], now: dt.datetime) -> LawNotes:
    """Return what the law's periods mean for ``subject``, given the records shown on the page."""
    return law_notes(
        date_of_birth=subject.date_of_birth,
        deceased_on=subject.deceased_on,
        signed_on=[record.signed_on for record in records if record.revoked_at is None],
        today=consent_day(now),
    )


def _record_or_404(pk: int) -> ConsentRecord:
    try:
        return selectors.record_for_registry(pk=pk)
    except ConsentRecord.DoesNotExist as exc:
        raise Http404 from exc


@require_GET
@login_required
def registry_view(request: AuthedHttpRequest) -> HttpResponse:
    """List people and their consent records, searchable by name or reference and filterable by state."""
    if denied := _registry_denied(request):
        return denied
    form = RegistrySearchForm(request.GET or None)
    filters = valid_filters(form)
    query, state = filters.get("q", ""), filters.get("state", "")
    now = timezone.now()
    page = page_of(
        request, selectors.registry_subjects(query=query, state=state, now=now), per_page=selectors.REGISTRY_PAGE_SIZE
    )
    rows: list[RegistryRow] = []
    for subject in page:
        listed = subject.listed_records
        records = [(record, ConsentState(record.state_at(now))) for record in listed]
        rows.append({"subject": subject, "records": records})
    counts = selectors.registry_state_counts(now=now)
    context = {
        "form": form,
        "rows": rows,
        "rows_html": registry_rows(rows),
        "page": page,
        "query": query,
        "state": state,
        "state_filters": [(value, ConsentState(value).label, counts[value]) for value in selectors.REGISTRY_STATES],
        "may_register": ConsentPolicy(request.user).may(REGISTER_SUBJECT),
        "nav": NAV,
    }
    return render(request, "consent/registry.html", context)


def _subject_form_page(
    request: HttpRequest,
    form: SubjectForm,
    subject: Subject | None,
    *,
    version: int = 0,
    stale: StaleVersion | None = None,
) -> HttpResponse:
    context = {"form": form, "subject": subject, "version": version, "stale": stale, "nav": NAV}
    return render(request, "consent/subject_form.html", context, status=409 if stale else 200)


@login_required
def subject_create_view(request: AuthedHttpRequest) -> HttpResponse:
    """Register a person who may appear in content."""
    if denied := _registry_denied(request):
        return denied
    if not ConsentPolicy(request.user).may(REGISTER_SUBJECT):
        return forbidden(request, _("You may not register people."))
    if request.method != "POST":
        return _subject_form_page(request, SubjectForm(), None)
    form = SubjectForm(request.POST)
    if form.is_valid():
        registered = _("The person was registered. Now record their consent.")
        with service_action(request, success=registered, form=form, denied=forbidden) as call:
            subject = subject_create(actor=request.user, data=form.subject_data())
        if call.response is not None:
            return call.response
        if call.ok:
            return redirect("consent:subject_detail", pk=subject.pk)
    return _subject_form_page(request, form, None)


@login_required
def subject_edit_view(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Change a person's details; a save over someone else's change is refused (409), the input kept."""
    if denied := _registry_denied(request):
        return denied
    # Read before the person, so the form never shows older details than the version it carries.
    version = version_of(model=Subject, pk=pk)
    subject = _subject_or_404(pk)
    if not ConsentPolicy(request.user).may(CHANGE_SUBJECT):
        return forbidden(request, _("You may not change people's details."))
    if subject.erased_at is not None:
        return _erased_answer(
            request, subject, _("This person's personal data was erased; their details cannot be changed.")
        )
    if request.method != "POST":
        initial = {name: getattr(subject, name) for name in SUBJECT_FIELDS}
        return _subject_form_page(request, SubjectForm(initial=initial), subject, version=version)
    form = SubjectForm(request.POST)
    expected = version_parse(request.POST.get("version"))

    def answer_stale(stale: StaleVersion) -> HttpResponse:
        return _subject_form_page(request, form, subject, version=stale.version, stale=stale)

    if form.is_valid():
        with service_action(
            request,
            success=_("The person's details were saved."),
            form=form,
            denied=forbidden,
            conflict=(StaleVersion, answer_stale),
        ) as call:
            subject_update_service(
                subject=subject, actor=request.user, data=form.subject_data(), expected_version=expected
            )
        if call.response is not None:
            return call.response
        if call.ok:
            return redirect("consent:subject_detail", pk=subject.pk)
    return _subject_form_page(request, form, subject, version=expected)


@require_GET
@login_required
def subject_detail_view(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Show a person, all their consent records with state and signers, and what uses them."""
    if denied := _registry_denied(request):
        return denied
    return _subject_page(request, _subject_or_404(pk))


def _erased_answer(request: HttpRequest, subject: Subject, message: str) -> HttpResponse:
    """Answer a form for an erased person with why it is not offered (a POST changes nothing)."""
    messages.error(request, message)
    return redirect("consent:subject_detail", pk=subject.pk)


def _subject_page(
    request: HttpRequest, subject: Subject, *, erase_form: SubjectEraseForm | None = None, status: int = 200
) -> HttpResponse:
    now = timezone.now()
    records = subject.records  # type: ignore[attr-defined]
    may_erase = ConsentPolicy(request.user).may(ERASE_SUBJECT) and subject.erased_at is None
    context = {
        "subject": subject,
        "records": [
            {
                "record": record,
                "state": ConsentState(record.state_at(now)),
                "kinds": _labels(record.media_kinds, MediaKind),
                "signer_problem": signer_problem(record, at=now),
            }
            for record in records
        ],
        "panels": selectors.registry_panels(user=request.user, subject=subject, records=records),
        "law": _law_notes(subject, records, now),
        "may_record": ConsentPolicy(request.user).may(RECORD) and subject.erased_at is None,
        "may_change": ConsentPolicy(request.user).may(CHANGE_SUBJECT) and subject.erased_at is None,
        "may_export": ConsentPolicy(request.user).may(EXPORT_SUBJECT),
        "erase_form": erase_form or (SubjectEraseForm() if may_erase else None),
        "nav": NAV,
    }
    return render(request, "consent/subject_detail.html", context, status=status)


@login_required
def record_create_view(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Record a signed consent form for a person (pending until another officer verifies it)."""
    if denied := _registry_denied(request):
        return denied
    subject = _subject_or_404(pk)
    if not ConsentPolicy(request.user).may(RECORD):
        return forbidden(request, _("You may not record consent."))
    if subject.erased_at is not None:
        return _erased_answer(
            request, subject, _("This person's personal data was erased; register them again to record consent.")
        )
    form = ConsentRecordForm(request.POST, request.FILES) if request.method == "POST" else ConsentRecordForm()
    if form.is_bound and form.is_valid():
        upload = form.cleaned_data["document"]
        recorded = _("The consent was recorded. Another Consent officer must verify it.")
        with service_action(
            request, success=recorded, form=form, code_fields=DOCUMENT_ERROR_FIELDS, denied=forbidden
        ) as call:
            record = consent_record_create(
                actor=request.user,
                subject=subject,
                data=form.record_data(),
                signers=form.signers,
                document=upload,
                document_name=upload.name,
                withdrawal_born=form.cleaned_data.get("withdrawal_born"),
            )
        if call.response is not None:
            return call.response
        if call.ok:
            return redirect("consent:record_detail", pk=record.pk)
    context = {"form": form, "subject": subject, "nav": NAV}
    return render(request, "consent/record_form.html", context, status=200)


def _record_page(
    request: HttpRequest,
    record: ConsentRecord,
    revoke_form: RevokeForm | None = None,
    status: int = 200,
    copy_form: CopyGivenForm | None = None,
    *,
    version: int | None = None,
    stale: StaleVersion | None = None,
) -> HttpResponse:
    now = timezone.now()
    actions = ConsentPolicy(request.user).actions(record)
    context = {
        "record": record,
        "subject": record.subject,
        "state": ConsentState(record.state_at(now)),
        "actions": actions,
        "media_kinds": _labels(record.media_kinds, MediaKind),
        "platforms": _labels(record.platforms, ConsentPlatform),
        "purposes": _labels(record.purposes, ConsentPurpose),
        "signers": list(record.signers.all()),
        "signer_problem": signer_problem(record, at=now),
        "revoke_form": revoke_form or (RevokeForm() if REVOKE in actions else None),
        "copy_form": copy_form
        or (CopyGivenForm(initial={"copy_given_on": consent_day(now)}) if COPY_GIVEN in actions else None),
        "law": _law_notes(record.subject, [record], now),
        "panels": selectors.registry_panels(user=request.user, subject=record.subject, records=[record]),
        "version": version if version is not None else version_of(model=ConsentRecord, pk=record.pk),
        "stale": stale,
        "nav": NAV,
    }
    return render(request, "consent/record_detail.html", context, status=409 if stale else status)


@require_GET
@login_required
def record_detail_view(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Show every field of a consent record, its state, its history and the actions the user may take."""
    if denied := _registry_denied(request):
        return denied
    # Read before the record, so its forms never claim a newer version than the page shows.
    version = version_of(model=ConsentRecord, pk=pk)
    return _record_page(request, _record_or_404(pk), version=version)


@require_POST
@login_required
def record_verify_view(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Verify a record as a second Consent officer."""
    if denied := _registry_denied(request):
        return denied
    record = _record_or_404(pk)
    expected = version_parse(request.POST.get("version"))

    def answer_stale(stale: StaleVersion) -> HttpResponse:
        return _record_page(request, _record_or_404(pk), version=stale.version, stale=stale)

    verified = _("The consent is verified and can now be used.")
    with service_action(
        request, success=verified, joined=True, denied=forbidden, conflict=(StaleVersion, answer_stale)
    ) as call:
        # Unlocked look first: a record someone else changed meanwhile is a change to show, not a refusal.
        record_version_check(record=record, expected=expected)
        if VERIFY not in ConsentPolicy(request.user).actions(record):
            raise PermissionDenied(_("You may not verify this consent (the person who recorded it never may)."))
        consent_verify(record=record, actor=request.user, expected_version=expected)
    if call.response is not None:
        return call.response
    return redirect("consent:record_detail", pk=record.pk)


@require_POST
@login_required
def record_revoke_view(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Record that the person withdrew their consent; stops everything not yet published that uses it."""
    if denied := _registry_denied(request):
        return denied
    record = _record_or_404(pk)
    form = RevokeForm(request.POST)
    expected = version_parse(request.POST.get("version"))

    def answer_stale(stale: StaleVersion) -> HttpResponse:
        form.is_valid()  # the page shows the officer's input with its own errors, if any
        return _record_page(request, _record_or_404(pk), revoke_form=form, version=stale.version, stale=stale)

    with service_action(request, form=form, denied=forbidden, conflict=(StaleVersion, answer_stale)) as call:
        # Unlocked look first: a record someone else changed meanwhile is a change to show, not a refusal.
        record_version_check(record=record, expected=expected)
        if REVOKE not in ConsentPolicy(request.user).actions(record):
            raise PermissionDenied(_("You may not revoke this consent."))
        if form.is_valid():
            consent_revoke(
                record=record,
                actor=request.user,
                received_via=form.cleaned_data["received_via"],
                reason=form.cleaned_data["reason"],
                received_at=form.cleaned_data["received_at"],
                expected_version=expected,
            )
    if call.response is not None:
        return call.response
    if call.ok and form.is_valid():
        messages.success(request, _("The consent was revoked. Posts using it can no longer go out."))
        return redirect("consent:record_detail", pk=record.pk)
    return _record_page(request, _record_or_404(pk), revoke_form=form, status=400, version=expected)


@require_POST
@login_required
def record_copy_given_view(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Record that the signer was given a copy of the signed form (45 CFR 164.508(c)(4))."""
    if denied := _registry_denied(request):
        return denied
    record = _record_or_404(pk)
    form = CopyGivenForm(request.POST)
    expected = version_parse(request.POST.get("version"))

    def answer_stale(stale: StaleVersion) -> HttpResponse:
        form.is_valid()
        return _record_page(request, _record_or_404(pk), copy_form=form, version=stale.version, stale=stale)

    with service_action(request, form=form, denied=forbidden, conflict=(StaleVersion, answer_stale)) as call:
        record_version_check(record=record, expected=expected)
        if COPY_GIVEN not in ConsentPolicy(request.user).actions(record):
            raise PermissionDenied(_("You may not record the copy given for this consent."))
        if form.is_valid():
            consent_copy_given_record(
                record=record,
                actor=request.user,
                given_on=form.cleaned_data["copy_given_on"],
                how=form.cleaned_data["copy_given_how"],
                expected_version=expected,
            )
    if call.response is not None:
        return call.response
    if call.ok and form.is_valid():
        messages.success(request, _("The copy given to the signer is recorded."))
        return redirect("consent:record_detail", pk=record.pk)
    return _record_page(request, _record_or_404(pk), copy_form=form, status=400, version=expected)


def _private(response: HttpResponseBase) -> HttpResponseBase:
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@login_required
@sensitive_view
def document_view(request: AuthedHttpRequest, pk: int) -> HttpResponseBase:
    """Download the signed form: 404 to anyone who may not even see the record, 403 to those who may only see it."""
    record = selectors.record_by_id(pk=pk)
    if record is None:
        raise Http404
    actions = ConsentPolicy(request.user).actions(record)
    if VIEW_DOCUMENT not in actions:
        if VIEW in actions:
            return forbidden(request, _("You may see this consent, but not read the signed form."))
        raise Http404
    if not record.document:
        # Erased on the person's request, or purged past its retention period (docs/retention.md).
        return render(
            request,
            "consent/document_removed.html",
            {"record": record},
            status=410,
        )
    try:
        handle = document_open(record=record, actor=request.user, request_id=current_request_id())
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(
        handle, as_attachment=True, filename=record.document_name, content_type=record.document_type
    )
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return _private(response)


@require_GET
@login_required
@sensitive_view
def fhir_view(request: AuthedHttpRequest, pk: int) -> HttpResponseBase:
    """Return the record as an HL7 FHIR R4 Consent resource."""
    record = selectors.record_by_id(pk=pk)
    if record is None:
        raise Http404
    actions = ConsentPolicy(request.user).actions(record)
    if EXPORT_FHIR not in actions:
        if VIEW in actions:
            return forbidden(request, _("You may see this consent, but not export it."))
        raise Http404
    document_url = request.build_absolute_uri(reverse("consent:document", args=[record.pk]))
    resource = consent_fhir_export(
        record=record, actor=request.user, document_url=document_url, request_id=current_request_id()
    )
    response = JsonResponse(resource, content_type="application/fhir+json", json_dumps_params={"indent": 2})
    return _private(response)


@require_GET
@login_required
@sensitive_view
def subject_fhir_view(request: AuthedHttpRequest, pk: int) -> HttpResponseBase:
    """Return all of a person's consent records the user may export as one HL7 FHIR R4 Bundle."""
    subject = _subject_or_404(pk)

    def document_url(record: ConsentRecord) -> str:
        return request.build_absolute_uri(reverse("consent:document", args=[record.pk]))

    try:
        bundle = consent_fhir_bundle_export(
            subject=subject, actor=request.user, document_url=document_url, request_id=current_request_id()
        )
    except PermissionDenied:
        policy = ConsentPolicy(request.user)
        if any(VIEW in policy.actions(record) for record in subject.consent_records.all()):
            return forbidden(request, _("You may see this person's consents, but not export them."))
        raise Http404 from None
    response = JsonResponse(bundle, content_type="application/fhir+json", json_dumps_params={"indent": 2})
    return _private(response)


@require_POST
@login_required
@sensitive_view
def subject_erase_view(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Erase a person's personal data (GDPR Art. 17) after the officer confirmed it; the chain stays whole."""
    if denied := _registry_denied(request):
        return denied
    subject = _subject_or_404(pk)
    if not ConsentPolicy(request.user).may(ERASE_SUBJECT):
        return forbidden(request, _("You may not erase people's personal data."))
    form = SubjectEraseForm(request.POST)
    if not form.is_valid():
        return _subject_page(request, subject, erase_form=form, status=400)
    erased = _("The personal data was erased. Every consent is revoked; the audit trail reads “erased”.")
    with service_action(request, success=erased, form=form, denied=forbidden) as call:
        subject_erase(
            subject=subject,
            actor=request.user,
            reason=form.cleaned_data["reason"],
            received_via=form.cleaned_data["received_via"],
        )
    if call.response is not None:
        return call.response
    if call.ok:
        return redirect("consent:subject_detail", pk=subject.pk)
    return _subject_page(request, _subject_or_404(pk), erase_form=form, status=400)


@require_POST
@login_required
@sensitive_view
def subject_export_view(request: AuthedHttpRequest, pk: int) -> HttpResponseBase:
    """Download everything stored about a person (GDPR Art. 15) as a ZIP of JSON and PDF; audited."""
    if denied := _registry_denied(request):
        return denied
    subject = _subject_or_404(pk)
    if not ConsentPolicy(request.user).may(EXPORT_SUBJECT):
        return forbidden(request, _("You may not export people's personal data."))
    content = subject_export(subject=subject, actor=request.user, request_id=current_request_id())
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="person-{subject.pk}-art15.zip"'
    return _private(response)
