"""Featured people in the editor and on the post page (issue 4, item 4)."""

from typing import Any

import pytest
from django.urls import reverse
from django.utils.formats import date_format

from posts.models import FeaturedPerson, Post
from tests.posts.test_editor_views import edit_data, errors_of, form_data

pytestmark = pytest.mark.django_db


def test_editor_links_a_person_with_their_consent(
    client: Any, editor: Any, campaign: Any, account_factory: Any, subject_factory: Any, record_factory: Any
) -> None:
    anna = subject_factory(display_name="Anna Berger")
    record = record_factory(anna)
    client.force_login(editor)

    response = client.post(
        reverse("posts:post_create"),
        form_data(
            campaign,
            [account_factory("facebook")],
            content_type="patient_story",
            featured_subject_0=anna.reference,
            featured_consent_0=record.pk,
            featured_kinds_0=["photo", "story"],
        ),
    )

    assert response.status_code == 302, errors_of(response)
    post = Post.objects.get()
    person = FeaturedPerson.objects.get(post=post)
    assert (person.subject, person.consent, person.media_kinds) == (anna, record, ["photo", "story"])
    assert any(row["subject_id"] == anna.pk for row in post.current_revision.content["featured"])
    page = client.get(reverse("posts:post_detail", args=[post.pk])).content.decode()
    assert "Anna Berger" in page
    assert "Active" in page


def test_consent_of_someone_else_is_refused_and_nothing_saved(
    client: Any, editor: Any, campaign: Any, subject_factory: Any, record_factory: Any
) -> None:
    anna, ben = subject_factory(), subject_factory()
    client.force_login(editor)

    response = client.post(
        reverse("posts:post_create"),
        form_data(
            campaign,
            featured_subject_0=anna.reference,
            featured_consent_0=record_factory(ben).pk,
            featured_kinds_0=["photo"],
        ),
    )

    assert response.status_code == 200
    assert "featured_consent_0" in errors_of(response)
    assert Post.objects.count() == 0


def test_post_page_shows_consent_problems(
    client: Any, editor: Any, campaign: Any, account_factory: Any, subject_factory: Any, record_factory: Any
) -> None:
    anna = subject_factory()
    instagram, facebook = account_factory("instagram"), account_factory("facebook")
    record = record_factory(anna, all_platforms=False, platforms=["instagram"])
    client.force_login(editor)
    featured = {"featured_subject_0": anna.reference, "featured_consent_0": record.pk, "featured_kinds_0": ["photo"]}
    client.post(reverse("posts:post_create"), form_data(campaign, [instagram], **featured))
    post = Post.objects.get()

    # A consent already linked stays linked when the targets change (the gate says why it blocks).
    response = client.post(
        reverse("posts:post_edit", args=[post.pk]), edit_data(post, targets=[facebook.pk], **featured)
    )

    assert response.status_code == 302, errors_of(response)
    page = client.get(reverse("posts:post_detail", args=[post.pk])).content.decode()
    assert "does not cover the platform" in page


# The consent picker (issue 13) ---------------------------------------------------------------


def test_the_picker_offers_only_valid_consents_by_name_scope_and_validity(
    client: Any, editor: Any, campaign: Any, subject_factory: Any, record_factory: Any, officer: Any
) -> None:
    import datetime as dt

    from django.utils import timezone

    from consent.services import consent_revoke

    anna, ben, cem, dana = (
        subject_factory(display_name=name) for name in ("Anna Müller", "Ben Özdemir", "Cem Yılmaz", "Dana Ng")
    )
    until = timezone.localdate() + dt.timedelta(days=200)
    valid = record_factory(anna, all_platforms=False, platforms=["instagram"], expires_on=until)
    pending = record_factory(ben, verify=False)
    revoked = consent_revoke(record=record_factory(cem), actor=officer, received_via="letter")
    expired = record_factory(
        dana,
        signed_on=timezone.localdate() - dt.timedelta(days=100),
        expires_on=timezone.localdate() - dt.timedelta(days=1),
    )
    client.force_login(editor)

    page = client.post(reverse("posts:post_create"), form_data(campaign, consent_find="0", consent_search_0=" "))

    field = page.context["form"].fields["featured_consent_0"]
    assert list(field.queryset) == [valid]
    label = field.label_from_instance(valid)
    assert "Anna Müller" in label and "Instagram" in label and "Photo" in label
    assert date_format(until, "SHORT_DATE_FORMAT") in label
    html = page.content.decode()
    for name in ("Ben Özdemir", "Cem Yılmaz", "Dana Ng"):
        assert name not in html  # nobody else's name: no list of every registered person
    assert "/document/" not in html and "fhir" not in html
    for record, subject in ((pending, ben), (revoked, cem), (expired, dana)):
        response = client.post(
            reverse("posts:post_create"),
            form_data(
                campaign,
                featured_subject_0=subject.reference,
                featured_consent_0=record.pk,
                featured_kinds_0=["photo"],
            ),
        )
        assert response.status_code == 200
        assert "featured_consent_0" in errors_of(response), record
    assert Post.objects.count() == 0


def test_a_featured_person_is_named_by_reference_not_picked_from_a_list(
    client: Any, editor: Any, campaign: Any, subject_factory: Any
) -> None:
    anna = subject_factory(display_name="Anna Müller", reference="KH-2026/0042")
    client.force_login(editor)

    by_id = client.post(
        reverse("posts:post_create"), form_data(campaign, featured_subject_0=anna.pk, featured_kinds_0=["photo"])
    )
    unknown = client.post(
        reverse("posts:post_create"), form_data(campaign, featured_subject_0="KH-2026/9999", featured_kinds_0=["photo"])
    )

    assert "featured_subject_0" in errors_of(by_id)
    assert "No person is registered with this reference." in str(errors_of(unknown)["featured_subject_0"])
    assert Post.objects.count() == 0
