"""The task queue in the admin, read-only for everyone.

django-q2's own admin lets whoever may change a schedule type any function path to run (such as
``os.system``) and resubmit any task: a way to run code. Every schedule Rounds runs is declared
in ``calendar_project/schedules.py`` and synced after ``migrate``; failed publications are
retried from the Publishing page. So the queue is shown here for oversight only: no adding,
changing, deleting or actions, superusers included.
"""

from typing import Any

from django.apps import apps
from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django_q import admin as queue_admin
from django_q.models import Failure, OrmQ, Schedule, Success


class _ReadOnly:
    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        return {}


class ScheduleAdmin(_ReadOnly, queue_admin.ScheduleAdmin):  # type: ignore[misc]  # django-q2 has no type hints
    pass


class SuccessAdmin(_ReadOnly, queue_admin.TaskAdmin):  # type: ignore[misc]
    pass


class FailureAdmin(_ReadOnly, queue_admin.FailAdmin):  # type: ignore[misc]
    pass


class QueueAdmin(_ReadOnly, queue_admin.QueueAdmin):  # type: ignore[misc]
    pass


for model, model_admin in ((Schedule, ScheduleAdmin), (Success, SuccessAdmin), (Failure, FailureAdmin)):
    admin.site.unregister(model)
    admin.site.register(model, model_admin)
if admin.site.is_registered(OrmQ):
    admin.site.unregister(OrmQ)
    admin.site.register(OrmQ, QueueAdmin)

# Its own name ("Django Q") says nothing to Governance; this one says what it is and that it is for reading.
apps.get_app_config("django_q").verbose_name = _("Background tasks (read-only)")
