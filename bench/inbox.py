"""Time a medical reviewer's inbox with 2,000 and with 20,000 posts, 200 waiting; print one JSON line.

Run: ``.venv/bin/python bench/inbox.py``. Uses two throw-away SQLite files. Rows are bulk-created
(rounds, stage runs, decisions) for speed; the measured request is the real view through
django.test.Client.
Goal: at most 13 queries (the page of 50, the filter's campaigns, the navigation's counts), and the
inbox at 20,000 posts no slower than 1.3 times at 2,000.

Per 2,000 posts the system holds: 35% drafts, 5% published evergreen posts (approved a month
ago, not due for re-certification), 20% approved by the whole chain, 20% at Legal (Medical
approved by a colleague), 10% at Medical in a campaign the reviewer is not assigned to, 10%
changes requested. The 200 posts waiting for the reviewer and 20 published evergreen posts due
for re-certification (approved 13 months ago, the chain re-certifies yearly) are created once and
stay. Since issue 14 the world also holds, created once: 500 notices for the reviewer (half
unread), a colleague away today with the reviewer as deputy (and past and later periods), and
the overdue waiting stages escalated; and per post: 3 anchored comment threads with 2 replies each
on every waiting post and every 4th other post, 2 claims with their sources on the same posts
(source checked on each that has a Medical stage), one notice to the editor per post, and
decisions signed (printed name, role, zone, confirmation).
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
WAITING = 200
PAGE = 50  # the inbox shows the waiting posts a page at a time (approvals.views.LIST_PAGE_SIZE)
DUE = 20
NOTICES = 500
SMALL = int(os.environ.get("BENCH_SMALL", 2_000))
LARGE = int(os.environ.get("BENCH_LARGE", 20_000))
BATCH = 2_000
URL = "/reviews/"


def configure() -> tempfile.TemporaryDirectory[str]:
    scratch = tempfile.TemporaryDirectory(prefix="rounds-bench-")
    os.environ["DJANGO_SETTINGS_MODULE"] = "calendar_project.settings"
    os.environ["ROUNDS_DEBUG"] = "1"
    os.environ["DATABASE_URL"] = f"sqlite:///{scratch.name}/bench.sqlite3"
    os.environ.setdefault("ROUNDS_MEDIA_ROOT", str(Path(scratch.name) / "media"))
    os.environ.setdefault("ROUNDS_EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
    import django

    django.setup()
    return scratch


class World:
    """The people, campaigns and chain the bench posts live in."""

    def __init__(self, suffix: str) -> None:
        from django.contrib.auth.models import Group

        from approvals.models import ReviewChain
        from people import roles
        from people.models import User
        from posts.services import campaign_create

        def user(name: str, role: str) -> Any:
            person = User.objects.create_user(username=f"{name}_{suffix}", password="x", email=f"{name}@example.org")
            person.groups.add(Group.objects.get(name=role))
            return User.objects.get(pk=person.pk)  # fresh permission caches

        self.editor = user("bench_editor", roles.EDITOR)
        self.medical = user("bench_medical", roles.MEDICAL_REVIEWER)
        self.colleague = user("bench_medical2", roles.MEDICAL_REVIEWER)
        self.legal = user("bench_legal", roles.LEGAL_REVIEWER)
        period = {"start_date": dt.date(2000, 1, 1), "end_date": dt.date(2059, 12, 31)}
        reviewers = [self.medical, self.colleague, self.legal]
        self.assigned = [
            campaign_create(actor=self.editor, name=f"Bench {suffix} {n}", reviewers=reviewers, **period)
            for n in range(3)
        ]
        self.unassigned = campaign_create(
            actor=self.editor, name=f"Bench {suffix} other", reviewers=[self.colleague, self.legal], **period
        )
        # Published evergreen posts of this chain fall due for re-certification after a year.
        ReviewChain.objects.filter(is_default=True).update(recertify_months=12)
        self.chain = ReviewChain.objects.get(is_default=True)
        self.stages = list(self.chain.stages.select_related("group").order_by("position"))
        self.stage_roles = {stage.pk: stage.group.name for stage in self.stages}
        self.medical_group = Group.objects.get(name=roles.MEDICAL_REVIEWER)


def posts_add(world: World, *, kinds: list[str], tag: str) -> None:
    """Bulk-create posts of the given kinds, each with its revision and, if reviewed, its round."""
    from django.utils import timezone

    from approvals.models import Confirmation, Decision, ReviewRound, RoundStatus, StageRun, StageStatus, Verdict
    from approvals.services import recertification_due_refresh
    from people.models import Notice
    from posts.models import Post, PostStatus, Revision

    now = timezone.now()
    medical, legal, comms = world.stages
    status_of = {
        "draft": PostStatus.DRAFT,
        "approved": PostStatus.APPROVED,
        "at_legal": PostStatus.IN_REVIEW,
        "elsewhere": PostStatus.IN_REVIEW,
        "changes": PostStatus.CHANGES_REQUESTED,
        "waiting": PostStatus.IN_REVIEW,
        "published": PostStatus.PUBLISHED,
        "due": PostStatus.PUBLISHED,
    }
    live = {"published", "due"}
    for start in range(0, len(kinds), BATCH):
        chunk = kinds[start : start + BATCH]
        posts = Post.objects.bulk_create(
            [
                Post(
                    campaign=world.unassigned if kind == "elsewhere" else world.assigned[(start + i) % 3],
                    author=world.editor,
                    title=f"{tag} post {start + i}",
                    body="Wash your hands: it saves lives.",
                    status=status_of[kind],
                    scheduled_at=now + dt.timedelta(days=-20 if kind in live else 3, minutes=start + i),
                )
                for i, kind in enumerate(chunk)
            ]
        )
        revisions = Revision.objects.bulk_create(
            [
                Revision(post=post, number=1, content={"body": post.body}, content_hash=f"{post.pk:064x}")
                for post in posts
            ]
        )
        for post, revision in zip(posts, revisions, strict=True):
            post.current_revision = revision
            if post.status in {PostStatus.APPROVED, PostStatus.PUBLISHED}:
                post.approved_hash = revision.content_hash
        Post.objects.bulk_update(posts, ["current_revision", "approved_hash"])

        rounds, round_kinds = [], []
        for post, revision, kind in zip(posts, revisions, chunk, strict=True):
            if kind == "draft":
                continue
            status = {
                "approved": RoundStatus.APPROVED,
                "published": RoundStatus.APPROVED,
                "due": RoundStatus.APPROVED,
                "changes": RoundStatus.CHANGES_REQUESTED,
            }.get(kind, RoundStatus.IN_PROGRESS)
            # A live post's approval holds since its round finished: 13 months ago is due, a month is not.
            finished = {"due": now - dt.timedelta(days=400), "published": now - dt.timedelta(days=30)}.get(kind)
            rounds.append(
                ReviewRound(
                    post=post,
                    chain=world.chain,
                    revision=revision,
                    content_hash=revision.content_hash,
                    status=status,
                    submitted_by=world.editor,
                    submitted_at=finished - dt.timedelta(days=2) if finished else now - dt.timedelta(hours=5),
                    finished_at=finished,
                )
            )
            round_kinds.append(kind)
        rounds = ReviewRound.objects.bulk_create(rounds)
        # Live posts' due moments, as the services that approve and publish would have stored them.
        live_ids = [post.pk for post, kind in zip(posts, chunk, strict=True) if kind in live]
        for first in range(0, len(live_ids), 1_000):
            recertification_due_refresh(post_ids=live_ids[first : first + 1_000])

        runs: list[StageRun] = []
        for review_round, kind in zip(rounds, round_kinds, strict=True):
            deadline = now + dt.timedelta(hours=(review_round.post_id % 96) - 12)
            states = {
                "approved": [StageStatus.APPROVED] * 3,
                "published": [StageStatus.APPROVED] * 3,
                "due": [StageStatus.APPROVED] * 3,
                "at_legal": [StageStatus.APPROVED, StageStatus.IN_PROGRESS, StageStatus.WAITING],
                "elsewhere": [StageStatus.IN_PROGRESS, StageStatus.WAITING, StageStatus.WAITING],
                "waiting": [StageStatus.IN_PROGRESS, StageStatus.WAITING, StageStatus.WAITING],
                "changes": [StageStatus.APPROVED, StageStatus.CHANGES_REQUESTED, StageStatus.CLOSED],
            }[kind]
            for stage, state in zip((medical, legal, comms), states, strict=True):
                runs.append(
                    StageRun(
                        round=review_round,
                        stage=stage,
                        status=state,
                        started_at=now - dt.timedelta(hours=5) if state != StageStatus.WAITING else None,
                        deadline=deadline if state == StageStatus.IN_PROGRESS else None,
                        # Overdue stages were escalated: the deputy of an absent member sees it named.
                        reminded_at=now if state == StageStatus.IN_PROGRESS and deadline < now else None,
                    )
                )
        runs = StageRun.objects.bulk_create(runs, batch_size=3_000)

        decisions = []
        for run in runs:
            if run.status not in {StageStatus.APPROVED, StageStatus.CHANGES_REQUESTED}:
                continue
            # The measured reviewer decided some finished rounds; a colleague the others.
            reviewer = world.legal if run.stage_id != medical.pk else world.medical
            if run.stage_id == medical.pk and run.round_id % 2:
                reviewer = world.colleague
            if run.stage_id == comms.pk:
                reviewer = world.colleague  # not realistic, but it gives the subquery rows to skip
            verdict = Verdict.APPROVE if run.status == StageStatus.APPROVED else Verdict.REQUEST_CHANGES
            decisions.append(
                Decision(
                    stage_run=run,
                    reviewer=reviewer,
                    verdict=verdict,
                    comment="" if verdict == Verdict.APPROVE else "Cite the source.",
                    content_hash=f"{0:064x}",
                    signer_name=reviewer.get_full_name() or reviewer.username,
                    signer_time_zone="Europe/Berlin",
                    signer_role=world.stage_roles[run.stage_id],
                    confirmation=Confirmation.PASSWORD,
                )
            )
        Decision.objects.bulk_create(decisions, batch_size=3_000)

        discussed = [
            (post, revision)
            for i, (post, revision, kind) in enumerate(zip(posts, revisions, chunk, strict=True))
            if kind == "waiting" or (start + i) % 4 == 0
        ]
        medical_runs = {run.round.post_id: run for run in runs if run.stage_id == medical.pk}
        review_talk_add(world, discussed=discussed, medical_runs=medical_runs)
        Notice.objects.bulk_create(
            [
                Notice(
                    user=world.editor,
                    key=f"bench.post.{post.pk}",
                    subject=f"„{post.title}“ was reviewed",
                    url=f"/reviews/posts/{post.pk}/",
                    read_at=now if post.pk % 3 else None,
                )
                for post in posts
            ],
            batch_size=3_000,
        )


def review_talk_add(world: World, *, discussed: list[tuple[Any, Any]], medical_runs: dict[int, Any]) -> None:
    """Bulk-create 3 comment threads of 2 replies and 2 sourced claims on each post (checked where Medical ran)."""
    from approvals.models import AnchorKind, ClaimCheck, ReviewComment, ReviewCommentReply
    from posts.models import Claim, SourceKind

    quotes = [("Wash your hands", 0), ("it saves lives", 17), ("your hands", 5)]
    comments = ReviewComment.objects.bulk_create(
        [
            ReviewComment(
                post=post,
                revision=revision,
                group=world.medical_group if n == 0 else None,
                anchor_kind=AnchorKind.BODY,
                quote=quote,
                prefix=post.body[:start][-64:],
                suffix=post.body[start + len(quote) :][:64],
                start=start,
                end=start + len(quote),
                text="Bitte belegen: gilt das auch für Kinder unter 6 Jahren? 🧼",
                blocking=n == 0,
                author=world.colleague if n == 0 else world.editor,
            )
            for post, revision in discussed
            for n, (quote, start) in enumerate(quotes)
        ],
        batch_size=3_000,
    )
    ReviewCommentReply.objects.bulk_create(
        [
            ReviewCommentReply(comment=comment, author=author, text=f"Antwort von {author.username}.")
            for comment in comments
            for author in (world.editor, world.colleague)
        ],
        batch_size=3_000,
    )
    claims = Claim.objects.bulk_create(
        [
            Claim(
                post=post,
                passage=passage,
                source_kind=SourceKind.PMID,
                source="31378231",
                quote="Hand hygiene reduced infections in healthcare settings.",
            )
            for post, _ in discussed
            for passage in ("Wash your hands", "it saves lives")
        ],
        batch_size=3_000,
    )
    current = {post.pk: revision for post, revision in discussed}
    ClaimCheck.objects.bulk_create(
        [
            ClaimCheck(
                claim=claim,
                stage_run=medical_runs[claim.post_id],
                content_hash=current[claim.post_id].content_hash,
                claim_hash=f"{claim.pk:064x}",
                checked_by=world.colleague,
            )
            for claim in claims
            if claim.post_id in medical_runs
        ],
        batch_size=3_000,
    )


def people_add(world: World) -> None:
    """Create the reviewer's notices (half unread) and the deputy periods, once."""
    from django.utils import timezone

    from people.models import DeputyPeriod, Notice

    now = timezone.now()
    today = timezone.localdate()
    Notice.objects.bulk_create(
        [
            Notice(
                user=world.medical,
                key=f"bench.reviewer.{n}",
                subject=f"Post {n} waits for your review",
                url="/reviews/",
                created_at=now - dt.timedelta(hours=n),
                read_at=None if n % 2 else now,
            )
            for n in range(NOTICES)
        ]
    )
    days = dt.timedelta
    DeputyPeriod.objects.bulk_create(
        [
            DeputyPeriod(user=world.colleague, deputy=world.medical, starts=today - days(2), ends=today + days(5)),
            DeputyPeriod(user=world.colleague, deputy=world.medical, starts=today - days(60), ends=today - days(50)),
            DeputyPeriod(user=world.medical, deputy=world.colleague, starts=today + days(30), ends=today + days(44)),
            DeputyPeriod(user=world.legal, deputy=world.colleague, starts=today - days(1), ends=today + days(1)),
        ]
    )


def mix(total: int) -> list[str]:
    """Return the kinds of ``total`` background posts, in the proportions of the docstring."""
    pattern = ["draft"] * 3 + ["published"] + ["approved"] * 2 + ["at_legal"] * 2 + ["elsewhere"] + ["changes"]
    return [pattern[i % len(pattern)] for i in range(total)]


def use_database(path: str) -> None:
    """Point the default connection at another SQLite file (opened on the next query)."""
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = path


def copy_database(target: str) -> None:
    import sqlite3

    from django.db import connection

    connection.ensure_connection()
    destination = sqlite3.connect(target)
    with destination:
        connection.connection.backup(destination)
    destination.close()


def fetch(client: Any) -> tuple[int, float]:
    """Return the inbox's query count and its time in ms, after one unmeasured request."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(URL)
    assert response.status_code == 200, response.status_code
    rows = response.content.count(b'class="review-inbox-row')
    assert rows == PAGE, f"expected a page of {PAGE} of the {WAITING} waiting posts, the inbox shows {rows}"
    assert f"{WAITING} posts are waiting".encode() in response.content, "the inbox does not say how many wait"
    due = response.content.count(b'class="recertification-item"')
    assert due == DUE, f"expected {DUE} posts due for re-certification, the inbox shows {due}"
    assert b'class="deputy-flag"' in response.content, "no escalated stage names the absent colleague"
    unread = f"data-notice-count>{NOTICES // 2}<".encode()
    assert unread in response.content, "the navigation does not show the reviewer's unread notices"
    connection.queries_log.clear()  # a full log (9,000 setup queries) would hide the request's own
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        client.get(URL)
        elapsed = (time.perf_counter() - started) * 1000
    if os.environ.get("BENCH_VERBOSE"):
        for query in queries.captured_queries:
            print(query["time"], query["sql"][:400], file=sys.stderr)
    return len(queries.captured_queries), elapsed


def world_rows() -> dict[str, int]:
    """Return how many rows of each kind the current database holds (the JSON line's world figures)."""
    from approvals.models import ClaimCheck, Decision, ReviewComment, ReviewCommentReply
    from people.models import DeputyPeriod, Notice
    from posts.models import Claim, Post, PostStatus

    return {
        "posts": Post.objects.count(),
        "published": Post.objects.filter(status=PostStatus.PUBLISHED).count(),
        "comments": ReviewComment.objects.count(),
        "replies": ReviewCommentReply.objects.count(),
        "claims": Claim.objects.count(),
        "claim_checks": ClaimCheck.objects.count(),
        "signed_decisions": Decision.objects.exclude(signer_name="").count(),
        "notices": Notice.objects.count(),
        "deputy_periods": DeputyPeriod.objects.count(),
    }


def main() -> None:
    scratch = configure()
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    world = World(suffix=f"{int(time.time()) % 10**6:06d}")
    posts_add(world, kinds=["waiting"] * WAITING + ["due"] * DUE, tag="waiting")
    people_add(world)
    posts_add(world, kinds=mix(SMALL - WAITING - DUE), tag="small")
    client = Client(HTTP_HOST="localhost")
    client.force_login(world.medical)

    # The large system is a copy of the small one plus more posts; samples alternate between
    # the two files, so a busy machine slows both alike and the ratio stays fair.
    small_db = str(Path(scratch.name) / "bench.sqlite3")
    large_db = str(Path(scratch.name) / "bench-large.sqlite3")
    copy_database(large_db)
    use_database(large_db)
    posts_add(world, kinds=mix(LARGE - SMALL), tag="large")

    timings: dict[str, list[float]] = {"small": [], "large": []}
    queries: dict[str, int] = {}
    rows: dict[str, dict[str, int]] = {}
    for _ in range(SAMPLES):
        for size, path in (("small", small_db), ("large", large_db)):
            use_database(path)
            count, elapsed = fetch(client)
            queries[size] = count
            timings[size].append(elapsed)
            rows.setdefault(size, world_rows())
    ms_2k = statistics.median(timings["small"])
    ms_20k = statistics.median(timings["large"])
    print(
        json.dumps(
            {
                "queries": queries["large"],
                "queries_2k": queries["small"],
                "ms_median": round(ms_20k, 2),
                "ms_median_2k": round(ms_2k, 2),
                "ratio_20k_vs_2k": round(ms_20k / ms_2k, 3),
                "world_2k": rows["small"],
                "world_20k": rows["large"],
            }
        )
    )
    print(f"(setup and measurement took {time.perf_counter() - started:.0f} s)", file=sys.stderr)
    use_database(small_db)
    scratch.cleanup()


if __name__ == "__main__":
    main()
