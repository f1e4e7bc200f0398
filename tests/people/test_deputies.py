"""Deputies: a reviewer names who stands in while they are away; the deputy must share their review groups."""

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from people import roles
from people.models import DeputyPeriod
from people.services import deputy_period_delete, deputy_period_save
from tests.conftest import make_user

DAY = dt.date(2026, 12, 21)


@pytest.fixture
def people(db: None) -> dict[str, Any]:
    return {
        "müller": make_user("mueller", roles.MEDICAL_REVIEWER, first_name="Jürgen", last_name="Müller"),
        "özdemir": make_user("oezdemir", roles.MEDICAL_REVIEWER, first_name="Ayşe", last_name="Özdemir"),
        "legal": make_user("legal", roles.LEGAL_REVIEWER),
        "governance": make_user("governance", roles.GOVERNANCE),
        "editor": make_user("editor", roles.EDITOR),
    }


def period(user: Any, deputy: Any, days: int = 14) -> DeputyPeriod:
    return DeputyPeriod(user=user, deputy=deputy, starts=DAY, ends=DAY + dt.timedelta(days=days))


def test_a_reviewer_names_a_colleague_of_the_same_group_and_it_is_audited(people: dict[str, Any]) -> None:
    saved = deputy_period_save(period=period(people["müller"], people["özdemir"]), actor=people["müller"])
    event = AuditEvent.objects.get(action="deputy.created")
    assert event.object_id == str(people["müller"].pk) and event.changes["deputy"] == "Ayşe Özdemir"
    saved.ends = DAY + dt.timedelta(days=3)
    deputy_period_save(period=saved, actor=people["müller"])
    assert AuditEvent.objects.get(action="deputy.changed").changes == {"ends": ["2027-01-04", "2026-12-24"]}
    deputy_period_delete(period=saved, actor=people["müller"])
    assert AuditEvent.objects.filter(action="deputy.deleted").count() == 1
    assert not DeputyPeriod.objects.exists()


@pytest.mark.parametrize(
    ("deputy", "fragment"),
    [("legal", "not in the same groups (missing: Medical reviewer)"), ("müller", "someone else")],
)
def test_a_deputy_outside_the_reviewers_groups_or_oneself_is_refused(
    people: dict[str, Any], deputy: str, fragment: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        deputy_period_save(period=period(people["müller"], people[deputy]), actor=people["müller"])
    assert fragment in " ".join(refused.value.messages)
    assert not DeputyPeriod.objects.exists()


def test_a_period_that_ends_before_it_starts_is_refused(people: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        deputy_period_save(period=period(people["müller"], people["özdemir"], days=-1), actor=people["müller"])


def test_only_the_reviewer_or_governance_sets_their_deputy(people: dict[str, Any]) -> None:
    with pytest.raises(PermissionDenied):
        deputy_period_save(period=period(people["müller"], people["özdemir"]), actor=people["özdemir"])
    with pytest.raises(PermissionDenied):
        deputy_period_save(period=period(people["müller"], people["özdemir"]), actor=people["editor"])
    saved = deputy_period_save(period=period(people["müller"], people["özdemir"]), actor=people["governance"])
    with pytest.raises(PermissionDenied):
        deputy_period_delete(period=saved, actor=people["özdemir"])
    deputy_period_delete(period=saved, actor=people["governance"])


def test_the_deputies_page_lists_adds_and_removes_only_ones_own(people: dict[str, Any]) -> None:
    client = Client()
    client.force_login(people["müller"])
    page = client.get(reverse("people:deputies"))
    assert page.status_code == 200 and "Ayşe Özdemir" in page.content.decode()  # offered as deputy
    assert "legal" not in [str(user) for user in page.context["form"].fields["deputy"].queryset]
    response = client.post(
        reverse("people:deputies"),
        {"deputy": people["özdemir"].pk, "starts": "2026-12-21", "ends": "2027-01-04"},
    )
    assert response.status_code == 302
    saved = DeputyPeriod.objects.get()
    assert (saved.user, saved.deputy) == (people["müller"], people["özdemir"])
    refused = client.post(
        reverse("people:deputies"), {"deputy": people["özdemir"].pk, "starts": "2027-01-04", "ends": "2026-12-21"}
    )
    assert refused.status_code == 400 and DeputyPeriod.objects.count() == 1
    other = Client()
    other.force_login(people["özdemir"])
    assert other.post(reverse("people:deputy_end", args=[saved.pk])).status_code == 404
    assert client.post(reverse("people:deputy_end", args=[saved.pk])).status_code == 302
    assert not DeputyPeriod.objects.exists()
    assert "Deputies while you are away" in client.get(reverse("people:preferences")).content.decode()


def test_governance_sets_a_deputy_in_the_admin_through_the_audited_service(people: dict[str, Any]) -> None:
    governance = people["governance"]
    governance.is_staff = True
    governance.save()
    client = Client()
    client.force_login(governance)
    add = reverse("admin:people_deputyperiod_add")
    data = {"user": people["müller"].pk, "deputy": people["legal"].pk, "starts": "2026-12-21", "ends": "2027-01-04"}
    refused = client.post(add, data)
    assert refused.status_code == 200 and "not in the same groups" in refused.content.decode()
    assert client.post(add, {**data, "deputy": people["özdemir"].pk}).status_code == 302
    saved = DeputyPeriod.objects.get()
    event = AuditEvent.objects.get(action="deputy.created")
    assert (saved.deputy, event.actor_id) == (people["özdemir"], governance.pk)
    assert client.post(reverse("admin:people_deputyperiod_delete", args=[saved.pk]), {"post": "yes"}).status_code == 302
    assert AuditEvent.objects.filter(action="deputy.deleted", actor_id=governance.pk).exists()
