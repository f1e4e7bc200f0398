"""Every schedule ``calendar_project/schedules.py`` declares is in django-q2 after ``migrate``."""

import pytest
from django.core.management import call_command
from django_q.models import Schedule

from calendar_project.schedules import PREFIX, SCHEDULES

pytestmark = pytest.mark.django_db


def _ours() -> dict[str, tuple[str, int | None, str, int]]:
    return {
        schedule.name: (schedule.func, schedule.minutes, schedule.schedule_type, schedule.repeats)
        for schedule in Schedule.objects.filter(name__startswith=PREFIX)
    }


def _declared() -> dict[str, tuple[str, int | None, str, int]]:
    return {PREFIX + name: (func, minutes, Schedule.MINUTES, -1) for name, (func, minutes) in SCHEDULES.items()}


def test_migrate_restores_changed_and_deleted_schedules_and_drops_retired_ones() -> None:
    Schedule.objects.filter(name=PREFIX + "review-reminders").delete()
    Schedule.objects.filter(name=PREFIX + "consent-expiries").update(minutes=999)
    Schedule.objects.create(
        name=PREFIX + "retired-job", func="approvals.gone", schedule_type=Schedule.MINUTES, minutes=5, repeats=-1
    )
    Schedule.objects.create(
        name="a-hospital-job", func="hospital.jobs.nightly", schedule_type=Schedule.DAILY, repeats=-1
    )
    assert _ours() != _declared()

    call_command("migrate", verbosity=0)

    assert _ours() == _declared()
    assert Schedule.objects.filter(name="a-hospital-job", func="hospital.jobs.nightly").exists()
