"""Plan import (Editors) and export (Governance too) in the admin, through the same code as the web and command line.

`PlanImportExportMixin` goes first in the bases of the post admin: this module registers Post
again with ``posts.admin.PostAdmin`` plus the mixin, since posts may not import plans. Import
previews with `plan_preview` and confirms with `plan_commit`; export writes `plan_export`'s
bytes (CSV or .xlsx, cells escaped), never django-import-export's own rendering.
"""

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from import_export.admin import ImportExportMixin
from import_export.formats.base_formats import CSV, XLSX, Format
from import_export.forms import ExportForm

from plans.exporting import CSV as CSV_FORMAT
from plans.exporting import XLSX as XLSX_FORMAT
from plans.exporting import plan_export, posts_for_plan_export
from plans.resources import PlanFileFormat, PlanResource
from posts.admin import PostAdmin
from posts.models import Post

IMPORT_PERM = "posts.import_plan"
EXPORT_PERM = "posts.view_post"


class PlanImportExportMixin(ImportExportMixin):  # type: ignore[misc]  # django-import-export ships no type hints
    """Adds "Import" and "Export" to a ModelAdmin of posts, for users who may import plans."""

    resource_classes = [PlanResource]
    import_formats = [PlanFileFormat]
    export_formats = [CSV, XLSX]
    export_form_class = ExportForm
    # The audit trail records every import (who, which file, its SHA-256); no admin log rows.
    skip_admin_log = True

    def has_import_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm(IMPORT_PERM))

    def has_export_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm(EXPORT_PERM))

    def get_export_data(
        self, file_format: Format, request: HttpRequest, queryset: QuerySet[Post], **kwargs: Any
    ) -> bytes:
        if not self.has_export_permission(request):
            raise PermissionDenied
        posts = posts_for_plan_export(user=request.user).filter(pk__in=queryset.values("pk"))
        return plan_export(posts=posts, file_format=XLSX_FORMAT if isinstance(file_format, XLSX) else CSV_FORMAT)

    def get_export_filename(self, request: HttpRequest, queryset: QuerySet[Post], file_format: Format) -> str:
        return f"plan.{XLSX_FORMAT if isinstance(file_format, XLSX) else CSV_FORMAT}"


class PlanPostAdmin(PlanImportExportMixin, PostAdmin):
    """The post admin of ``posts.admin`` with plan import and export."""


# Admin modules load in INSTALLED_APPS order, posts before plans: Post is registered by now.
admin.site.unregister(Post)
admin.site.register(Post, PlanPostAdmin)
