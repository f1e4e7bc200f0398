"""The compliance archive pages (request, progress, download) and the purge reports, for Governance."""

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from core.inputs import BoundedDateField
from core.pagination import page_of
from core.web import forbidden
from evidence.archive import ArchivePolicy, archive_downloaded, archive_path, archive_request
from evidence.models import ArchiveJob, ArchiveStatus, LegalHold, PurgeReport, RecordKind, RetentionRule
from people.http import AuthedHttpRequest
from people.twofactor import sensitive_view
from posts.models import Campaign

REPORTS_PERM = "evidence.view_purgereport"
PAGE_SIZE = 50


class ArchiveRequestForm(forms.Form):
    campaign = forms.ModelChoiceField(
        label=gettext_lazy("Campaign"),
        queryset=Campaign.objects.order_by("name"),
        required=False,
        empty_label=gettext_lazy("— a period instead —"),
    )
    date_from = BoundedDateField(
        label=gettext_lazy("First day"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = BoundedDateField(
        label=gettext_lazy("Last day"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        campaign, start, end = cleaned.get("campaign"), cleaned.get("date_from"), cleaned.get("date_to")
        if self.errors:
            return cleaned
        if campaign is None and (start is None or end is None):
            raise ValidationError(_("Choose a campaign, or a period with both a first and a last day."))
        if campaign is not None and (start is not None or end is not None):
            raise ValidationError(_("Choose a campaign or a period, not both."))
        if start is not None and end is not None and start > end:
            self.add_error("date_to", _("The last day must not be before the first day."))
        return cleaned


def _archive_page(request: AuthedHttpRequest, form: ArchiveRequestForm, status: int = 200) -> HttpResponse:
    jobs = ArchiveJob.objects.select_related("campaign", "requested_by").order_by("-created_at", "-pk")
    page = page_of(request, jobs, per_page=PAGE_SIZE, count=False)
    context = {
        "form": form,
        "jobs": page,
        "page": page,
        "may_request": "request" in ArchivePolicy(request.user).actions(),
        "nav": "archive",
    }
    return render(request, "evidence/archive_list.html", context, status=status)


@login_required
def archive_list_view(request: AuthedHttpRequest) -> HttpResponse:
    """List the archives and, for Governance, ask for a new one of a campaign or a period."""
    actions = ArchivePolicy(request.user).actions()
    if "view" not in actions:
        return forbidden(request, _("Only Governance may see the compliance archive."))
    if request.method != "POST":
        return _archive_page(request, ArchiveRequestForm())
    if "request" not in actions:
        return forbidden(request, _("Only Governance may export the compliance archive."))
    form = ArchiveRequestForm(request.POST)
    if not form.is_valid():
        return _archive_page(request, form, status=400)
    try:
        job = archive_request(
            actor=request.user,
            campaign=form.cleaned_data["campaign"],
            date_from=form.cleaned_data["date_from"],
            date_to=form.cleaned_data["date_to"],
        )
    except PermissionDenied as error:
        return forbidden(request, str(error))
    except ValidationError as error:
        for message in error.messages:
            form.add_error(None, message)
        return _archive_page(request, form, status=400)
    return redirect("evidence:archive", pk=job.pk)


@login_required
@require_GET
def archive_detail_view(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Show one archive's progress (the page reloads itself while it runs) and its download when done."""
    if "view" not in ArchivePolicy(request.user).actions():
        return forbidden(request, _("Only Governance may see the compliance archive."))
    job = get_object_or_404(ArchiveJob.objects.select_related("campaign", "requested_by"), pk=pk)
    context = {"job": job, "DONE": ArchiveStatus.DONE, "refresh_seconds": 2, "nav": "archive"}
    return render(request, "evidence/archive_detail.html", context)


@login_required
@require_GET
@sensitive_view
def archive_download_view(request: AuthedHttpRequest, pk: int) -> HttpResponse | FileResponse:
    """Stream a finished archive's ZIP from private storage; audited. Asks to confirm, as a single pack does."""
    if "download" not in ArchivePolicy(request.user).actions():
        return forbidden(request, _("Only Governance may download the compliance archive."))
    job = get_object_or_404(ArchiveJob, pk=pk, status=ArchiveStatus.DONE)
    path = archive_path(job)
    if not path.is_file():
        raise Http404
    handle = path.open("rb")
    archive_downloaded(job=job, actor=request.user)
    return FileResponse(
        handle, as_attachment=True, filename=f"rounds-archive-{job.pk}.zip", content_type="application/zip"
    )


@login_required
@require_GET
def purge_reports_view(request: AuthedHttpRequest) -> HttpResponse:
    """List the purge reports a page at a time (without their long lists of files), the rules and the active holds."""
    if not request.user.has_perm(REPORTS_PERM):
        return forbidden(request, _("Only Governance may see the purge reports."))
    reports = PurgeReport.objects.defer("purged", "held").order_by("-ran_at", "-pk")
    page = page_of(request, reports, per_page=PAGE_SIZE, count=False)
    context = {
        "reports": page,
        "page": page,
        "rules": RetentionRule.objects.all(),
        "holds": LegalHold.objects.filter(released_at__isnull=True).select_related("placed_by"),
        "nav": "archive",
    }
    return render(request, "evidence/archive_purges.html", context)


@login_required
@require_GET
def purge_report_view(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Show one purge report: what went, why, and what a hold kept."""
    if not request.user.has_perm(REPORTS_PERM):
        return forbidden(request, _("Only Governance may see the purge reports."))
    report = get_object_or_404(PurgeReport, pk=pk)
    context = {
        "report": report,
        "purged": _labelled(report.purged),
        "held": _labelled(report.held),
        "nav": "archive",
    }
    return render(request, "evidence/archive_purge_report.html", context)


def _labelled(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return a report's items with the kind's translated name beside its stored code."""
    labels = dict(RecordKind.choices)
    return [{**item, "kind_label": labels.get(item.get("kind", ""), item.get("kind", ""))} for item in items]
