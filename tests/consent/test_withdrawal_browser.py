"""Issue 16's journey: a person withdraws online with the link printed on their consent form.

An officer prints the form and reads its withdrawal link; a browser without an account opens it,
gives the reference, the date of birth and an address; the mailed link is confirmed; the scheduled
follow-up post is blocked and the published story is listed for taking down.
"""

import datetime as dt
import re
from typing import Any

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse

from consent.models import ConsentRecord, ReceivedVia
from consent.withdrawal_check import withdrawal_check_of
from posts.models import Post, PostStatus
from posts.services import FeatureSpec, post_transition, post_update
from publishing.models import TakedownItem
from tests.a11y import axe_violations, overflow
from tests.conftest import browser_context, browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BORN = dt.date(1979, 11, 3)


def test_a_person_withdraws_online_with_the_printed_link_and_the_cascade_runs(
    page: Any,
    browser: Any,
    live_server: Any,
    editor: Any,
    campaign: Any,
    account_factory: Any,
    post_factory: Any,
    officer: Any,
    subject_factory: Any,
    record_factory: Any,
) -> None:
    from playwright.sync_api import expect

    anna = subject_factory(display_name="Anna Kowalczyk-Müller", reference="CASE-2026-0815")
    record = record_factory(anna)
    ConsentRecord.objects.filter(pk=record.pk).update(
        withdrawal_check=withdrawal_check_of(reference=record.form_reference, born=BORN)
    )
    account = account_factory("facebook")
    story = post_factory(editor, campaign, targets=[account], title="Annas Weg zurück")
    follow_up = post_factory(editor, campaign, targets=[account], title="Anna, ein Jahr danach")
    for post in (story, follow_up):
        post_update(
            post=post, actor=editor, featured=[FeatureSpec(subject=anna, consent=record, media_kinds=("story",))]
        )
    with transaction.atomic():
        for post, last in ((story, PostStatus.PUBLISHED), (follow_up, PostStatus.SCHEDULED)):
            locked = Post.objects.select_for_update().get(pk=post.pk)
            for status in (PostStatus.IN_REVIEW, PostStatus.APPROVED, PostStatus.SCHEDULED, PostStatus.PUBLISHED):
                post_transition(post=locked, to=status, actor=editor, reason="history for the test")
                if status == last:
                    break

    # The officer prints the form and reads the withdrawal link on it.
    browser_login(page, "consent")
    page.goto(reverse("consent:record_detail", args=[record.pk]))
    page.get_by_role("link", name="Print consent form").click()
    expect(page.get_by_role("heading", name="Consent to appear in social media")).to_be_visible()
    expect(page.locator("[data-form-reference]")).to_have_text(record.form_reference)
    expect(page.locator(".print-qr svg")).to_be_visible()
    assert axe_violations(page) == [], "the print page is accessible"
    printed = page.locator("[data-withdrawal-url]").inner_text()
    assert printed.endswith(f"/withdraw/?ref={record.form_reference}")
    path = "/" + printed.split("://", 1)[1].split("/", 1)[1]

    # The person, without an account, in a browser of their own.
    with browser_context(browser, live_server) as context:
        person = context.new_page()
        person.goto(path)
        expect(person.get_by_role("heading", name="Withdraw your consent")).to_be_visible()
        expect(person.get_by_label("Form reference")).to_have_value(record.form_reference)
        assert axe_violations(person) == []
        person.set_viewport_size({"width": 390, "height": 844})
        assert overflow(person) == [], "a phone from the QR code shows the page without sideways scrolling"
        person.get_by_label("Date of birth of the person shown").fill(BORN.isoformat())
        person.get_by_label("Your e-mail address").fill("anna.k@beispiel.example")
        person.get_by_role("button", name="Send me the confirmation link").click()
        expect(person.get_by_role("heading", name="Check your e-mail")).to_be_visible()

        sent = [message for message in mail.outbox if message.to == ["anna.k@beispiel.example"]]
        assert len(sent) == 1
        link = re.search(r"https?://\S+/withdraw/confirm/\S+/", sent[0].body)
        assert link is not None
        person.goto("/" + link.group(0).split("://", 1)[1].split("/", 1)[1])
        expect(person.get_by_role("heading", name="Confirm the withdrawal")).to_be_visible()
        assert axe_violations(person) == []
        record.refresh_from_db()
        assert record.revoked_at is None, "opening the link withdraws nothing"
        person.get_by_label("Reason (optional)").fill("Ich möchte nicht mehr gezeigt werden.")
        person.get_by_role("button", name="Withdraw my consent").click()
        expect(person.locator('[data-withdrawal-done="now"]')).to_be_visible()

    record.refresh_from_db()
    assert record.revocation_received_via == ReceivedVia.ONLINE
    follow_up.refresh_from_db()
    assert follow_up.status == PostStatus.BLOCKED
    takedown = TakedownItem.objects.get(post=story)

    # The officer sees it in the record's history; the editor finds the takedown on the Publishing page.
    page.goto(reverse("consent:record_detail", args=[record.pk]))
    expect(page.get_by_text("Online withdrawal form")).to_be_visible()
    page.get_by_role("button", name="Log out").click()
    browser_login(page, editor.username)
    page.goto(reverse("publishing:publishing"))
    row = page.locator(f'[data-takedown="{takedown.pk}"]')
    expect(row).to_contain_text("Annas Weg zurück")
    expect(row).to_contain_text("consent revoked")
