"""The review page and the editor read a post's comments, claims and revisions in a fixed number of queries.

The comments and claims helpers test each alone; here they grow together with the revisions and
their signed decisions, as on a post that went back and forth (bench/review_page.py times it).
"""

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from approvals import views
from approvals.claims import claim_check_record
from approvals.comments import AnchorSpec, comment_add, comment_reply
from approvals.models import AnchorKind, Decision, ReviewComment, ReviewCommentReply, Verdict
from approvals.policy import current_stage_run
from approvals.services import decision_record, round_submit
from audit.models import AuditEvent
from audit.selectors import events_for_object
from posts.claims import claim_add
from posts.models import Post, Revision
from posts.services import FeatureSpec, TargetSpec, post_update

pytestmark = pytest.mark.django_db

SENTENCES = [
    f"Studie {n}: Tägliche Bewegung senkt das Risiko für Herzinfarkt bei über 60-Jährigen um {n} %."
    for n in range(1, 9)
]
BODY = " ".join(SENTENCES) + " Sprechstunde Mo–Fr 8–12 Uhr, Haus B. ❤️"
QUOTE = "Daily activity was associated with a lower risk of myocardial infarction."


def _post(*, size: int, editor: Any, reviewers: dict[str, Any], campaign: Any, account: Any, post_factory: Any) -> Post:
    """Return a post at Medical with ``size`` claims (checked), threads of two replies, and send-backs."""
    medical, medical2, legal = reviewers["medical"], reviewers["medical2"], reviewers["legal"]
    post = post_factory(editor, campaign, body=BODY, targets=[account], when=timezone.now() + dt.timedelta(days=6))
    for sentence in SENTENCES[:size]:
        claim_add(post=post, actor=editor, passage=sentence, source_kind="pmid", source="31378231", quote=QUOTE)
    round_submit(post=post, actor=editor)
    # Every send-back is a signed decision and the edit after it a new revision and round.
    for n in range(size - 1):
        post.refresh_from_db()
        run = current_stage_run(post=post)
        assert run is not None
        if n % 2:
            for claim in post.claims.all():
                claim_check_record(claim=claim, reviewer=medical2)
            decision_record(stage_run=run, reviewer=medical2, verdict=Verdict.APPROVE)
            post.refresh_from_db()
            run = current_stage_run(post=post)
            assert run is not None
            decision_record(stage_run=run, reviewer=legal, verdict=Verdict.REQUEST_CHANGES, comment="Quelle fehlt.")
        else:
            decision_record(stage_run=run, reviewer=medical2, verdict=Verdict.REQUEST_CHANGES, comment="Zu lang.")
        post.refresh_from_db()
        post_update(post=post, actor=editor, data={"body": f"{BODY} Stand {n + 1}."})
        post.refresh_from_db()
        round_submit(post=post, actor=editor)
    post.refresh_from_db()
    for claim in post.claims.all():
        claim_check_record(claim=claim, reviewer=medical)
    for n in range(size):
        comment = comment_add(
            post=post,
            actor=medical2 if n % 2 else medical,
            anchor=AnchorSpec(kind=AnchorKind.BODY, quote=SENTENCES[n % len(SENTENCES)][:30]),
            text=f"Frage {n}: Gilt das auch für Frau Dr. Müller-Ağaoğlus Patientinnen?",
            blocking=n % 3 == 0,
        )
        comment_reply(comment=comment, actor=editor, text="Ja, laut Studie.")
        comment_reply(comment=comment, actor=medical, text="Danke 👍")
    return post


# What post detail costs a campaign's editor and a reviewer at Medical, whatever the post's history.
# (The registry's names are read once: the findings and the review panel share them.)
# (The reviewer's own decisions come from the rounds the panel loaded, not from a query of their own.)
POST_DETAIL_QUERIES = {"editor": 21, "medical": 23}


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize(("page", "who"), [("approvals:review", "medical"), ("posts:post_edit", "editor")])
def test_the_page_costs_the_same_queries_for_few_and_many_comments_claims_and_revisions(
    editor: Any,
    reviewers: dict[str, Any],
    review_campaign: Any,
    account_factory: Any,
    post_factory: Any,
    page: str,
    who: str,
) -> None:
    account = account_factory("facebook")
    made = {"editor": editor, "reviewers": reviewers, "campaign": review_campaign, "account": account}
    few = _post(size=1, post_factory=post_factory, **made)
    many = _post(size=len(SENTENCES), post_factory=post_factory, **made)
    assert ReviewComment.objects.filter(post=many).count() == 8
    assert ReviewCommentReply.objects.filter(comment__post=many).count() == 16
    assert many.claims.count() == 8 and many.claims.filter(checks__checked_by=reviewers["medical"]).count() == 8
    assert Revision.objects.filter(post=many).count() > 3 * Revision.objects.filter(post=few).count()
    signed = Decision.objects.filter(stage_run__round__post=many).exclude(signer_name="")
    assert signed.count() == 10 and signed.filter(signer_role="").count() == 0
    client = Client()
    client.force_login(reviewers["medical"] if who == "medical" else editor)
    client.get(reverse(page, args=[few.pk]))  # warm the per-process caches (content types, session)
    html = client.get(reverse(page, args=[many.pk])).content.decode()
    assert all(
        f'id="comment-{pk}"' in html for pk in ReviewComment.objects.filter(post=many).values_list("pk", flat=True)
    )
    assert _queries(client, reverse(page, args=[few.pk])) == _queries(client, reverse(page, args=[many.pk]))


@pytest.mark.parametrize(
    ("page", "who"), [("posts:post_detail", "editor"), ("posts:post_detail", "medical"), ("posts:post_edit", "editor")]
)
def test_the_post_pages_cost_the_same_queries_for_a_short_and_a_long_history(
    editor: Any,
    reviewers: dict[str, Any],
    review_campaign: Any,
    account_factory: Any,
    post_factory: Any,
    page: str,
    who: str,
) -> None:
    accounts = [account_factory(platform, name=f"Klinikum Süd {platform}") for platform in ("facebook", "instagram")]
    made = {"editor": editor, "reviewers": reviewers, "campaign": review_campaign, "account": accounts[0]}
    few = _post(size=1, post_factory=post_factory, **made)
    many = _post(size=len(SENTENCES), post_factory=post_factory, **made)
    post_update(post=many, actor=editor, targets=[TargetSpec(account=account) for account in accounts])
    assert many.targets.count() == 2 and few.targets.count() == 1
    assert AuditEvent.objects.for_object(many).count() > 3 * AuditEvent.objects.for_object(few).count()
    client = Client()
    client.force_login(reviewers["medical"] if who == "medical" else editor)
    client.get(reverse(page, args=[few.pk]))  # warm the per-process caches (content types, session)
    counts = {_queries(client, reverse(page, args=[few.pk])), _queries(client, reverse(page, args=[many.pk]))}
    if page == "posts:post_detail":
        # The page's own reads, once each (rights included: people.rights); a new repeat shows here.
        assert counts == {POST_DETAIL_QUERIES[who]}
    assert len(counts) == 1


def test_the_review_page_shows_the_latest_history_and_the_rest_on_request(
    editor: Any,
    reviewers: dict[str, Any],
    review_campaign: Any,
    account_factory: Any,
    post_factory: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(views, "HISTORY_SHOWN", 6)
    monkeypatch.setattr(views, "EARLIER_ROUNDS_SHOWN", 2)
    made = {"editor": editor, "reviewers": reviewers, "campaign": review_campaign}
    post = _post(size=5, post_factory=post_factory, account=account_factory("facebook"), **made)
    events = list(events_for_object(obj=post).values_list("pk", flat=True))
    assert len(events) > 6
    client = Client()
    client.force_login(reviewers["medical"])
    url = reverse("approvals:review", args=[post.pk])
    response = client.get(url)
    overview = response.context["overview"]
    assert [entry.event.pk for entry in overview.timeline] == events[-6:]  # the newest, oldest first
    assert len(overview.earlier_rounds) == 4 and len(overview.earlier_rounds_shown) == 2
    html = response.content.decode()
    assert "The latest 6 events are shown." in html and "Older rounds are in the history." in html
    assert f'href="{url}?history=all#review-timeline-title"' in html
    whole = client.get(url, {"history": "all"})
    assert [entry.event.pk for entry in whole.context["overview"].timeline] == events
    assert len(whole.context["overview"].earlier_rounds_shown) == 4
    assert "The latest" not in whole.content.decode()
    assert _queries(client, url) == _queries(client, f"{url}?history=all")


def test_the_editor_costs_the_same_queries_and_size_for_a_small_and_a_large_consent_registry(
    client: Any,
    editor: Any,
    campaign: Any,
    account_factory: Any,
    post_factory: Any,
    subject_factory: Any,
    record_factory: Any,
) -> None:
    """The consent picker lists what its rows need; the rest of the registry is found by searching."""
    names = ("Jürgen Schäfer", "Ayşe Yıldız", "山田 花子", "Zoë Brontë", "Anna Müller")
    records = [record_factory(subject_factory(display_name=name)) for name in names]
    post = post_factory(
        editor, campaign, targets=[account_factory("facebook")], when=timezone.now() + dt.timedelta(days=6)
    )
    post_update(
        post=post,
        actor=editor,
        featured=[FeatureSpec(subject=records[0].subject, consent=records[0], media_kinds=("photo",))],
    )
    client.force_login(editor)
    url = reverse("posts:post_edit", args=[post.pk])
    client.get(url)  # warm the per-process caches (content types, session)
    small = client.get(url).content
    small_queries = _queries(client, url)
    for number in range(195):
        record_factory(subject_factory(display_name=f"Patientin Nr. {number} Öztürk"))

    large = client.get(url).content

    assert _queries(client, url) == small_queries
    assert len(large) == len(small)
    assert "Öztürk".encode() not in large and "Jürgen Schäfer".encode() in large
