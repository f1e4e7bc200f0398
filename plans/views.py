"""The "Import plan" pages: upload, preview, confirm, progress, error report, template and export."""

import datetime as dt
import zoneinfo
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from core.inputs import BoundedDateField
from core.web import forbidden
from people.http import AuthedHttpRequest
from people.models import User
from plans.exporting import CONTENT_TYPES, CSV, XLSX, plan_export, posts_for_plan_export, rows_to_csv
from plans.importing import ERROR, PlanOptions
from plans.jobs import IMPORTED, PREVIEWED, SESSION_KEY, PlanJob, job_create, job_load, job_start
from plans.reading import MAX_BYTES, cell_escape
from plans.rows import COLUMNS, DMY, MDY
from posts.models import Account, Campaign
from posts.selectors import accounts_active, campaigns_for_user

IMPORT_PERM = "posts.import_plan"
SESSION_KEEP = 20
PLAN = "plan"
HOOTSUITE = "hootsuite"


class PlanImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Plan file"),
        help_text=gettext_lazy(
            "CSV (comma, semicolon or tab; UTF-8, UTF-16 or Windows-1252) or Excel .xlsx, up to 10 MB."
        ),
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind of file"),
        choices=[
            (PLAN, gettext_lazy("Campaign plan (with a header row)")),
            (HOOTSUITE, gettext_lazy("Hootsuite bulk file (no header)")),
        ],
        initial=PLAN,
        widget=forms.RadioSelect,
    )
    date_order = forms.ChoiceField(
        label=gettext_lazy("Hootsuite date order"),
        choices=[(DMY, gettext_lazy("Day first (DD/MM/YYYY)")), (MDY, gettext_lazy("Month first (MM/DD/YYYY)"))],
        initial=DMY,
        required=False,
    )
    campaign = forms.CharField(
        label=gettext_lazy("Hootsuite campaign"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("The campaign for the file's posts; a new name creates it."),
    )
    accounts = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Hootsuite accounts"),
        queryset=Account.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["accounts"].queryset = accounts_active().defer("credentials")  # type: ignore[attr-defined]

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(limit)d MB. Split the plan into smaller files."),
                params={"limit": MAX_BYTES // (1024 * 1024)},
                code="too_large",
            )
        return upload

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("kind") == HOOTSUITE:
            if not data.get("date_order"):
                self.add_error("date_order", _("Choose the date order of the Hootsuite file."))
            if not (data.get("campaign") or "").strip():
                self.add_error("campaign", _("Choose the campaign for the Hootsuite file's posts."))
            if not data.get("accounts"):
                self.add_error("accounts", _("Choose at least one account for the Hootsuite file's posts."))
        return data

    def options(self) -> PlanOptions:
        data = self.cleaned_data
        if data["kind"] != HOOTSUITE:
            return PlanOptions()
        return PlanOptions(
            hootsuite=data["date_order"],
            campaign=data["campaign"].strip(),
            accounts=tuple(f"{account.platform}:{account.handle}" for account in data["accounts"]),
        )


class PlanExportForm(forms.Form):
    campaign = forms.ModelChoiceField(
        label=gettext_lazy("Campaign"),
        queryset=Campaign.objects.none(),
        required=False,
        empty_label=gettext_lazy("All campaigns"),
    )
    start = BoundedDateField(label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = BoundedDateField(label=gettext_lazy("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    format = forms.ChoiceField(label=gettext_lazy("Format"), choices=[(CSV, "CSV"), (XLSX, "Excel (.xlsx)")])

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = campaigns_for_user(user=user).order_by("name")  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", _("The end comes before the start."))
        return data


def _may_import(request: HttpRequest) -> bool:
    return bool(request.user.is_authenticated and request.user.has_perm(IMPORT_PERM))


def _own_job(request: HttpRequest, token: str) -> PlanJob:
    # Only tokens this session uploaded, and only the uploader's: a token alone grants nothing.
    if token not in request.session.get(SESSION_KEY, []):
        raise Http404
    job = job_load(token)
    if job is None or job.user_id != request.user.pk:
        raise Http404
    return job


def _remember(request: HttpRequest, token: str) -> None:
    tokens = [*request.session.get(SESSION_KEY, []), token]
    request.session[SESSION_KEY] = tokens[-SESSION_KEEP:]


def _import_page(request: AuthedHttpRequest, form: PlanImportForm, status: int = 200) -> HttpResponse:
    context = {
        "form": form,
        "export_form": PlanExportForm(user=request.user),
        "max_mb": MAX_BYTES // (1024 * 1024),
        "columns": COLUMNS,
        "nav": "plan_import",
    }
    return render(request, "plans/plan_import.html", context, status=status)


@login_required
def plan_import_view(request: AuthedHttpRequest) -> HttpResponse:
    """Upload a plan; it is checked and previewed before anything is written."""
    if not _may_import(request):
        return forbidden(request, _("You may not import campaign plans."))
    if request.method != "POST":
        return _import_page(request, PlanImportForm())
    form = PlanImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _import_page(request, form, status=400)
    upload = form.cleaned_data["file"]
    job = job_create(user=request.user, data=upload.read(), file_name=upload.name, options=form.options())
    _remember(request, job.token)
    job_start(job, commit=False)
    return redirect("plans:preview", token=job.token)


@login_required
def plan_preview_view(request: AuthedHttpRequest, token: str) -> HttpResponse:
    """Show a plan's progress, its preview with every row's outcome and error, or the import's result."""
    if not _may_import(request):
        return forbidden(request, _("You may not import campaign plans."))
    job = _own_job(request, token)
    preview = job.preview_result() if job.state == PREVIEWED else None
    result = job.import_result() if job.state == IMPORTED else None
    shown = result or preview
    first_day = ""
    if result is not None:
        days = sorted(row.when[:10] for row in result.rows if row.when)
        first_day = days[0] if days else ""
    context = {
        "job": job,
        "preview": preview,
        "result": result,
        "rows": shown.rows if shown else [],
        "counts": shown.counts if shown else {},
        # Rows that would import once the errors are fixed: with errors, nothing is created or updated.
        "valid_rows": sum(count for outcome, count in shown.counts.items() if outcome != ERROR) if shown else 0,
        "file_errors": shown.file_errors if shown else [],
        "error_count": len(shown.errors) if shown else 0,
        "first_day": first_day,
        "ERROR": ERROR,
        "nav": "plan_import",
    }
    return render(request, "plans/plan_preview.html", context)


@login_required
@require_POST
def plan_confirm_view(request: AuthedHttpRequest, token: str) -> HttpResponse:
    """Import a previewed plan without errors (checked again, all or nothing)."""
    if not _may_import(request):
        return forbidden(request, _("You may not import campaign plans."))
    job = _own_job(request, token)
    preview = job.preview_result()
    if job.state == PREVIEWED and preview is not None and preview.ok:
        job_start(job, commit=True)
    return redirect("plans:preview", token=job.token)


@login_required
@require_GET
def plan_progress_view(request: AuthedHttpRequest, token: str) -> JsonResponse:
    """Return a plan job's state and progress for the progress bar."""
    if not _may_import(request):
        raise Http404
    job = _own_job(request, token)
    total = max(job.total, 1)
    return JsonResponse(
        {
            "state": job.state,
            "done": job.done,
            "total": job.total,
            "percent": min(100, round(100 * job.done / total)),
            "finished": not job.running,
        }
    )


@login_required
@require_GET
def plan_errors_view(request: AuthedHttpRequest, token: str) -> HttpResponse:
    """Download a previewed plan's errors as CSV: row, column, message."""
    if not _may_import(request):
        return forbidden(request, _("You may not import campaign plans."))
    job = _own_job(request, token)
    preview = job.preview_result()
    errors = preview.errors if preview is not None else []
    rows = [["row", "column", "message"]] + [
        [str(error.row or ""), cell_escape(error.column), cell_escape(error.message)] for error in errors
    ]
    response = HttpResponse(rows_to_csv(rows), content_type=CONTENT_TYPES[CSV])
    response["Content-Disposition"] = 'attachment; filename="plan-errors.csv"'
    return response


@login_required
@require_GET
def plan_template_view(request: AuthedHttpRequest) -> HttpResponse:
    """Download an empty plan with the columns and one example row."""
    day = timezone.localdate() + dt.timedelta(days=30)
    zone = getattr(request.user, "time_zone", "") or "Europe/Berlin"
    example = {
        "campaign": _("Heart health week"),
        "date": day.isoformat(),
        "time": "09:30",
        "timezone": zone,
        "accounts": "@klinikum_nord;Klinikum Nord",
        "title": _("Kick-off"),
        "body": _("Seven days, seven tips for a healthy heart. Follow us!"),
        "link": "https://example.org/heart",
        "hashtags": "#HeartHealth #Prevention",
        "content_type": "education",
        "language": request.LANGUAGE_CODE,
        # Not an id a real plan (or the fixtures' Herzwochen plan, HW-001 …) uses: an import of the
        # template unchanged must never update someone's post.
        "external_id": "EXAMPLE-1",
    }
    rows = [list(COLUMNS), [cell_escape(example[column]) for column in COLUMNS]]
    response = HttpResponse(rows_to_csv(rows), content_type=CONTENT_TYPES[CSV])
    response["Content-Disposition"] = 'attachment; filename="plan-template.csv"'
    return response


@login_required
@require_GET
def plan_export_view(request: AuthedHttpRequest) -> HttpResponse:
    """Download the visible planned posts of a campaign and/or a date range as CSV or .xlsx."""
    form = PlanExportForm(request.GET, user=request.user)
    if not form.is_valid():
        message = "; ".join(str(error) for errors in form.errors.values() for error in errors)
        return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
    data = form.cleaned_data
    zone = zoneinfo.ZoneInfo(timezone.get_current_timezone_name())
    start = dt.datetime.combine(data["start"], dt.time(0), tzinfo=zone) if data.get("start") else None
    end = dt.datetime.combine(data["end"] + dt.timedelta(days=1), dt.time(0), tzinfo=zone) if data.get("end") else None
    campaign = data.get("campaign")
    posts = posts_for_plan_export(
        user=request.user, campaign_ids=[campaign.pk] if campaign else None, start=start, end=end
    )
    file_format = data["format"]
    response = HttpResponse(plan_export(posts=posts, file_format=file_format), content_type=CONTENT_TYPES[file_format])
    response["Content-Disposition"] = f'attachment; filename="plan.{file_format}"'
    return response
