"""Count the queries and time the review page and the post editor of one post with few and with many
comments, claims and revisions; print one JSON line.

Run: ``.venv/bin/python bench/review_page.py``. Uses a throw-away SQLite file. Each case is its own
post, built through the real services (comments with two replies each, claims with their source
and its check, revisions each with a signed decision); the measured requests are the real views
through django.test.Client: the review page (/reviews/posts/<pk>/) as the medical reviewer who
decides next and the editor (/posts/<pk>/edit/) as the author.
No goal is asserted: the query counts of the many cases should equal the baseline's
(tests/approvals/test_review_page_queries.py asserts it), and the times should stay near it.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import datetime as dt
import json
import os
import statistics
import tempfile
import time
from typing import Any

SAMPLES = int(os.environ.get("BENCH_SAMPLES", 25))
COMMENTS = 50
REPLIES = 2
CLAIMS = 20
REVISIONS = 30
PASSAGE = "Studie {n}: Tägliche Bewegung senkt das Risiko für Herzinfarkt um {n} Prozent."
SOURCE_QUOTE = "Daily activity was associated with a lower risk of myocardial infarction."


def configure() -> tempfile.TemporaryDirectory[str]:
    scratch = tempfile.TemporaryDirectory(prefix="rounds-bench-")
    os.environ["DJANGO_SETTINGS_MODULE"] = "calendar_project.settings"
    os.environ["ROUNDS_DEBUG"] = "1"
    os.environ["DATABASE_URL"] = f"sqlite:///{scratch.name}/bench.sqlite3"
    os.environ.setdefault("ROUNDS_MEDIA_ROOT", str(Path(scratch.name) / "media"))
    os.environ.setdefault("ROUNDS_EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
    os.environ.setdefault("ROUNDS_LOG_LEVEL", "WARNING")  # not a line per task the services enqueue
    import django

    django.setup()
    return scratch


class World:
    """The editor, the reviewers and the campaign every case's post lives in."""

    def __init__(self) -> None:
        from django.contrib.auth.models import Group
        from django.utils import timezone

        from people import roles
        from people.models import User
        from posts.models import Account
        from posts.services import campaign_create

        def user(name: str, role: str, first: str, last: str) -> Any:
            person = User.objects.create_user(
                username=name, password="x", email=f"{name}@example.org", first_name=first, last_name=last
            )
            person.groups.add(Group.objects.get(name=role))
            return User.objects.get(pk=person.pk)

        self.editor = user("bench_editor", roles.EDITOR, "Jana", "Öztürk")
        self.medical = user("bench_medical", roles.MEDICAL_REVIEWER, "Zoë", "Müller")
        self.medical2 = user("bench_medical2", roles.MEDICAL_REVIEWER, "Ali", "Hassan")
        self.legal = user("bench_legal", roles.LEGAL_REVIEWER, "Lena", "Brandt")
        today = timezone.localdate()
        self.campaign = campaign_create(
            actor=self.editor,
            name="Herzwochen",
            start_date=today - dt.timedelta(days=30),
            end_date=today + dt.timedelta(days=60),
            reviewers=[self.medical, self.medical2, self.legal],
        )
        self.account = Account.objects.create(platform="facebook", name="Klinikum Nord", handle="klinikum_nord")


def case_build(world: World, *, comments: int, claims: int, revisions: int) -> Any:
    """Return a post waiting at Medical with the given numbers of threads, checked claims and revisions."""
    from django.utils import timezone

    from approvals.claims import claim_check_record
    from approvals.comments import AnchorSpec, comment_add, comment_reply
    from approvals.models import AnchorKind, Verdict
    from approvals.policy import current_stage_run
    from approvals.services import decision_record, round_submit
    from posts.claims import claim_add
    from posts.services import TargetSpec, post_create, post_update

    sentences = [PASSAGE.format(n=n) for n in range(1, CLAIMS + 1)]
    body = " ".join(sentences)
    post = post_create(
        actor=world.editor,
        campaign=world.campaign,
        data={"body": body},
        targets=[TargetSpec(account=world.account)],
        scheduled_at=timezone.now() + dt.timedelta(days=6),
    )
    for sentence in sentences[:claims]:
        claim_add(
            post=post, actor=world.editor, passage=sentence, source_kind="pmid", source="31378231", quote=SOURCE_QUOTE
        )
    round_submit(post=post, actor=world.editor)
    # Each earlier revision is sent back by a signed decision: Medical, or Medical then Legal.
    for n in range(revisions - 1):
        post.refresh_from_db()
        run = current_stage_run(post=post)
        if n % 2:
            for claim in post.claims.all():
                claim_check_record(claim=claim, reviewer=world.medical2)
            decision_record(stage_run=run, reviewer=world.medical2, verdict=Verdict.APPROVE)
            post.refresh_from_db()
            run = current_stage_run(post=post)
            decision_record(stage_run=run, reviewer=world.legal, verdict=Verdict.REQUEST_CHANGES, comment="Quelle?")
        else:
            decision_record(stage_run=run, reviewer=world.medical2, verdict=Verdict.REQUEST_CHANGES, comment="Zu lang.")
        post.refresh_from_db()
        post_update(post=post, actor=world.editor, data={"body": f"{body} Stand {n + 1}."})
        post.refresh_from_db()
        round_submit(post=post, actor=world.editor)
    post.refresh_from_db()
    for claim in post.claims.all():
        claim_check_record(claim=claim, reviewer=world.medical)
    for n in range(comments):
        sentence = sentences[n % len(sentences)]
        comment = comment_add(
            post=post,
            actor=world.medical2 if n % 2 else world.medical,
            anchor=AnchorSpec(kind=AnchorKind.BODY, quote=sentence[:30]),
            text=f"Frage {n}: Gilt das auch für über 60-Jährige?",
            blocking=n % 5 == 0,
        )
        for m in range(REPLIES):
            comment_reply(comment=comment, actor=world.editor if m % 2 == 0 else world.medical, text=f"Antwort {m} 💬")
    post.refresh_from_db()
    return post


def measure(client: Any, url: str) -> tuple[int, float]:
    """Return the page's query count and the median of its time in ms, after one unmeasured request."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    assert client.get(url).status_code == 200
    connection.queries_log.clear()
    counts, times = set(), []
    for _ in range(SAMPLES):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
        counts.add(len(queries.captured_queries))
    if os.environ.get("BENCH_VERBOSE"):
        for query in queries.captured_queries:
            print(query["sql"][:300], file=sys.stderr)
    if os.environ.get("BENCH_PROFILE") and url.endswith(os.environ["BENCH_PROFILE"]):
        import cProfile
        import pstats

        profile = cProfile.Profile()
        profile.runcall(client.get, url)
        pstats.Stats(profile, stream=sys.stderr).sort_stats("cumulative").print_stats(40)
    assert len(counts) == 1, f"{url} varied: {counts}"
    return counts.pop(), statistics.median(times)


def main() -> None:
    scratch = configure()
    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse

    from approvals.models import Decision, ReviewComment, ReviewCommentReply
    from posts.models import Revision

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    world = World()
    cases = {
        "baseline": {"comments": 1, "claims": 1, "revisions": 1},
        "comments_50": {"comments": COMMENTS, "claims": 1, "revisions": 1},
        "claims_20": {"comments": 1, "claims": CLAIMS, "revisions": 1},
        "revisions_30": {"comments": 1, "claims": 1, "revisions": REVISIONS},
        "all_many": {"comments": COMMENTS, "claims": CLAIMS, "revisions": REVISIONS},
    }
    reviewer, editor = Client(HTTP_HOST="localhost"), Client(HTTP_HOST="localhost")
    reviewer.force_login(world.medical)
    editor.force_login(world.editor)
    result: dict[str, Any] = {}
    for name, sizes in cases.items():
        post = case_build(world, **sizes)
        review_q, review_ms = measure(reviewer, reverse("approvals:review", args=[post.pk]))
        editor_q, editor_ms = measure(editor, reverse("posts:post_edit", args=[post.pk]))
        result[name] = {
            "comments": ReviewComment.objects.filter(post=post).count(),
            "replies": ReviewCommentReply.objects.filter(comment__post=post).count(),
            "claims": post.claims.count(),
            "revisions": Revision.objects.filter(post=post).count(),
            "decisions": Decision.objects.filter(stage_run__round__post=post).count(),
            "review_queries": review_q,
            "review_ms_median": round(review_ms, 2),
            "editor_queries": editor_q,
            "editor_ms_median": round(editor_ms, 2),
        }
    print(json.dumps({"bench": "review_page", "samples": SAMPLES, **result}))
    print(f"(setup and measurement took {time.perf_counter() - started:.0f} s)", file=sys.stderr)
    scratch.cleanup()


if __name__ == "__main__":
    main()
