"""django-import-export's face of the plan importer, for the admin: the same preview and commit.

The admin's import page reads the upload with `PlanFileFormat` (our reader: encodings,
delimiters, .xlsx) and `PlanResource.import_data` calls `plan_preview` for its dry run and
`plan_commit` on confirmation, translating the outcome into django-import-export's results.
"""

from typing import Any

import tablib
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext
from import_export import fields, resources
from import_export.formats.base_formats import Format
from import_export.results import Error, Result, RowResult

from people.models import User
from plans.exporting import plan_rows, posts_for_plan_export, rows_to_csv
from plans.importing import CREATED, ERROR, UPDATED, PlanInvalid, Preview, plan_commit, plan_preview
from plans.reading import PlanFileError, read_lines
from posts.models import Post

PREVIEW_HEADERS = ["row", "campaign", "time", "accounts", "post", "notes"]
_IMPORT_TYPES = {CREATED: RowResult.IMPORT_TYPE_NEW, UPDATED: RowResult.IMPORT_TYPE_UPDATE}


class PlanFileFormat(Format):  # type: ignore[misc]  # django-import-export ships no type hints
    """A plan file as our reader sees it (CSV in any accepted encoding and delimiter, or .xlsx)."""

    def __init__(self, encoding: str | None = None) -> None:
        self.encoding = encoding

    def get_title(self) -> str:
        return "plan (csv, xlsx)"

    def get_extension(self) -> str:
        return "csv"

    def can_import(self) -> bool:
        return True

    def create_dataset(self, in_stream: bytes | str) -> tablib.Dataset:
        data = in_stream.encode("utf-8") if isinstance(in_stream, str) else bytes(in_stream)
        dataset = tablib.Dataset()
        try:
            header, *body = read_lines(data)
        except (PlanFileError, ValueError):
            # The resource reports the file's problem; the admin needs a row to go on.
            dataset.headers = ["file"]
            dataset.append([""])
        else:
            width = len(header.cells)
            dataset.headers = [cell or f"column {index + 1}" for index, cell in enumerate(header.cells)]
            for line in body or [header]:
                dataset.append((line.cells + [""] * width)[:width])
        dataset.plan_bytes = data
        return dataset


def _dataset_bytes(dataset: tablib.Dataset) -> bytes:
    plan_bytes: bytes | None = getattr(dataset, "plan_bytes", None)
    if plan_bytes is not None:
        return plan_bytes
    return rows_to_csv([list(dataset.headers or []), *([str(cell or "") for cell in row] for row in dataset)])


def preview_result(preview: Preview) -> Result:
    """Return django-import-export's result for a preview: rows by type, errors per row and column."""
    result = Result()
    result.diff_headers = list(PREVIEW_HEADERS)
    result.total_rows = len(preview.rows)
    for error in preview.file_errors:
        result.append_base_error(Error(PlanFileError(error.line())))
    for row in preview.rows:
        values = {
            "row": row.number,
            "campaign": row.campaign,
            "time": row.when,
            "accounts": row.accounts,
            "post": row.title,
            "notes": " ".join(row.notes),
        }
        if row.outcome == ERROR:
            messages: dict[str, list[str]] = {}
            for column, message in row.errors:
                messages.setdefault(column, []).append(message)
            result.append_invalid_row(row.number, values, ValidationError(messages))
            continue
        row_result = RowResult()
        row_result.import_type = _IMPORT_TYPES.get(row.outcome, RowResult.IMPORT_TYPE_SKIP)
        row_result.diff = [values[header] for header in PREVIEW_HEADERS]
        row_result.object_id = row.post_id
        row_result.object_repr = row.title
        result.append_row_result(row_result)
        result.increment_row_result_total(row_result)
    return result


class PlanResource(resources.Resource):  # type: ignore[misc]  # django-import-export ships no type hints
    """The campaign plan columns of SPEC section 6, imported and exported by `plans`."""

    campaign = fields.Field(column_name="campaign")
    date = fields.Field(column_name="date")
    time = fields.Field(column_name="time")
    timezone = fields.Field(column_name="timezone")
    accounts = fields.Field(column_name="accounts")
    title = fields.Field(column_name="title")
    body = fields.Field(column_name="body")
    link = fields.Field(column_name="link")
    hashtags = fields.Field(column_name="hashtags")
    content_type = fields.Field(column_name="content_type")
    language = fields.Field(column_name="language")
    external_id = fields.Field(column_name="external_id")

    class Meta:
        name = "Campaign plan"

    @classmethod
    def get_display_name(cls) -> str:
        return gettext("Campaign plan")

    def import_data(
        self,
        dataset: tablib.Dataset,
        dry_run: bool = False,
        raise_errors: bool = False,
        use_transactions: bool | None = None,
        collect_failed_rows: bool = False,
        rollback_on_validation_errors: bool = False,
        **kwargs: Any,
    ) -> Result:
        """Preview (dry run) or import all or nothing through `plans.importing`."""
        user: User = kwargs["user"]  # the admin passes its request.user: logged-in staff
        data = _dataset_bytes(dataset)
        if dry_run:
            return preview_result(plan_preview(data=data, actor=user))
        try:
            preview = plan_commit(data=data, file_name=kwargs.get("file_name") or "admin upload", actor=user)
        except PlanInvalid as invalid:
            preview = invalid.preview
        return preview_result(preview)

    def export(self, queryset: QuerySet[Post] | None = None, **kwargs: Any) -> tablib.Dataset:
        """Return the planned posts of ``queryset`` (default: all) in the plan's columns, escaped."""
        posts = posts_for_plan_export()
        if queryset is not None:
            posts = posts.filter(pk__in=queryset.values("pk"))
        header, *rows = plan_rows(posts)
        dataset = tablib.Dataset(headers=header)
        for row in rows:
            dataset.append(row)
        return dataset
