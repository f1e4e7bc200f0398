"""ConsentPolicy: what each role may do with a consent record in each state, and who opens the registry."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from consent import policy
from consent.policy import EXPORT_FHIR, REVOKE, VERIFY, VIEW, VIEW_DOCUMENT, ConsentPolicy
from consent.services import consent_revoke
from people import roles
from people.models import User
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

NOTHING: frozenset[str] = frozenset()
OFFICE = frozenset({VIEW, VIEW_DOCUMENT, EXPORT_FHIR})
READ = frozenset({VIEW_DOCUMENT, EXPORT_FHIR})


@pytest.fixture
def people(officer: Any, officer2: Any, governance: Any, editor: Any, viewer: Any) -> dict[str, Any]:
    return {
        "officer": officer,
        "officer2": officer2,
        "governance": governance,
        "editor": editor,
        "viewer": viewer,
        "legal": make_user("legal", roles.LEGAL_REVIEWER),
        "anonymous": AnonymousUser(),
    }


def actions_of(people: dict[str, Any], record: Any) -> dict[str, frozenset[str]]:
    def fresh(user: Any) -> Any:
        return User.objects.get(pk=user.pk) if user.is_authenticated else user

    return {name: ConsentPolicy(fresh(user)).actions(record) for name, user in people.items()}


@pytest.fixture
def anna(subject_factory: Any) -> Any:
    return subject_factory(display_name="Anna Müller-Øster", reference="KH-2026/0042")


def test_an_unverified_record_is_verified_by_another_officer(
    people: dict[str, Any], anna: Any, record_factory: Any
) -> None:
    record = record_factory(anna, verify=False)  # recorded by "officer"
    assert actions_of(people, record) == {
        "officer": OFFICE | {REVOKE},  # never verifies what they recorded
        "officer2": OFFICE | {VERIFY, REVOKE},
        "governance": NOTHING,  # not a Consent officer (issue 13: Governance verified consent)
        "editor": NOTHING,  # links consent through the post editor's picker, never the registry
        "viewer": NOTHING,
        "legal": NOTHING,
        "anonymous": NOTHING,
    }


def test_a_verified_record_may_only_be_revoked(people: dict[str, Any], anna: Any, record_factory: Any) -> None:
    record = record_factory(anna)
    assert actions_of(people, record) == {
        "officer": OFFICE | {REVOKE},
        "officer2": OFFICE | {REVOKE},
        "governance": NOTHING,
        "editor": NOTHING,
        "viewer": NOTHING,
        "legal": NOTHING,
        "anonymous": NOTHING,
    }


def test_a_revoked_record_is_only_read(people: dict[str, Any], anna: Any, record_factory: Any, officer: Any) -> None:
    record = consent_revoke(record=record_factory(anna), actor=officer, received_via="letter", reason="Brief vom 3.12.")
    assert actions_of(people, record) == {
        "officer": OFFICE,
        "officer2": OFFICE,
        "governance": NOTHING,
        "editor": NOTHING,
        "viewer": NOTHING,
        "legal": NOTHING,
        "anonymous": NOTHING,
    }


def test_a_deactivated_officer_may_do_nothing(anna: Any, record_factory: Any, officer2: Any) -> None:
    record = record_factory(anna, verify=False)
    officer2.is_active = False
    officer2.save(update_fields=["is_active"])
    assert ConsentPolicy(User.objects.get(pk=officer2.pk)).actions(record) == NOTHING


@pytest.fixture
def rule_for_legal(people: dict[str, Any]) -> Iterator[None]:
    legal = people["legal"]
    policy.document_access_register("test-legal", lambda user, record: user.pk == legal.pk)
    yield
    policy._document_rules.pop("test-legal")


def test_the_policy_consults_the_document_access_registry(
    people: dict[str, Any], anna: Any, record_factory: Any, rule_for_legal: None
) -> None:
    record = record_factory(anna)
    actions = actions_of(people, record)
    assert actions["legal"] == READ
    assert actions["editor"] == NOTHING  # the rule names Legal only


def test_no_rule_lets_someone_not_logged_in_read_a_form(anna: Any, record_factory: Any) -> None:
    record = record_factory(anna)
    policy.document_access_register("test-everyone", lambda user, record: True)
    try:
        assert ConsentPolicy(AnonymousUser()).actions(record) == NOTHING
    finally:
        policy._document_rules.pop("test-everyone")


def test_only_consent_officers_open_the_registry(people: dict[str, Any]) -> None:
    allowed = {name for name, user in people.items() if ConsentPolicy(user).may_open_registry}
    assert allowed == {"officer", "officer2"}
