"""A hospital's year of posts in bulk: the world that bench/http.py measures and others profile.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rounds_x python -m bench.lib.volume --posts 20000

On a migrated, otherwise empty database: 12 months of posts (six before the current month, five
after) in 5 campaigns, about 1.5 % of them (300 of 20,000) in the current month, the month the
bench measures. Past posts went out (published, a few partially or withdrawn) and future ones
are at every step before it (drafts, in review at each stage, changes requested, approved,
scheduled). Every submitted post has its review round, stage runs and decisions; live and
scheduled posts their publications; a quarter of the reviewed ones review comments with replies;
one in twenty features a person with a verified consent. Rows go in with COPY on PostgreSQL
(``bulk_create`` elsewhere; the services would write an audit event per row and take minutes), and
the tables are analysed after; the campaigns, with their object permissions, come from
``campaign_create``.

Prints one JSON line: the usernames per role, the ids the measured pages need, and row counts.
"""

import argparse
import datetime as dt
import json
import random
import time
from typing import Any

MONTH_SHARE = 0.015  # of all posts in the measured month: 300 of 20,000
BATCH = 2_000
SUBJECTS = 200
# The authenticator app of the roles that must sign in with a second factor (base32, for bench logins).
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
TEXTS = [
    (
        "de",
        "Infotag Geburtshilfe",
        "Infotag am 12.12. von 10:00 bis 14:00 Uhr im Kreißsaal-Foyer, Haus B. Hebammen und Ärztinnen "
        "beantworten Ihre Fragen. Anmeldung unter 030 1234567.",
    ),
    (
        "en",
        "Visiting hours change",
        "From 1 March, visiting hours on the wards are 2 pm to 7 pm. Intensive care: please call "
        "+44 20 7946 0958 before you come. Thank you for helping us protect our patients.",
    ),
    (
        "en",
        "Stroke awareness",
        "Face drooping, arm weakness, speech difficulty: time to call 999. Every minute counts — "
        "about 1.9 million neurons are lost each minute a stroke goes untreated.",
    ),
    (
        "de",
        "Händehygiene",
        "Händewaschen rettet Leben: 30 Sekunden mit Seife, auch zwischen den Fingern. "
        "Mehr in unserer Broschüre an der Information, Haus A.",
    ),
]
# What becomes of a post planned before now, and of one planned after (cycled by position).
PAST = ["published"] * 8 + ["partially_published", "withdrawn"]
FUTURE = ["draft"] * 3 + ["at_medical", "at_legal", "at_comms", "changes", "approved", "scheduled", "scheduled"]


def month_start(day: dt.date, months: int) -> dt.date:
    """Return the first day of the month ``months`` after ``day``'s (negative: before)."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def moments(*, posts: int, today: dt.date, zone: Any, rng: random.Random) -> list[dt.datetime]:
    """Return ``posts`` planned moments: MONTH_SHARE of them in today's month, the rest in the 11 around it."""
    in_month = max(1, round(posts * MONTH_SHARE))
    months = [m for m in range(-6, 6) if m != 0]

    def moment(first: dt.date) -> dt.datetime:
        days = (month_start(first, 1) - first).days
        day = first + dt.timedelta(days=rng.randrange(days))
        return dt.datetime.combine(day, dt.time(rng.randrange(7, 21), rng.choice((0, 15, 30, 45))), tzinfo=zone)

    made = [moment(month_start(today, 0)) for _ in range(in_month)]
    made += [moment(month_start(today, months[i % len(months)])) for i in range(posts - in_month)]
    return sorted(made)


def build(*, posts: int, password: str, seed: int = 17) -> dict[str, Any]:
    """Create the people, accounts, campaigns, consents and ``posts`` posts; return the JSON line's dict."""
    from allauth.mfa.totp.internal.auth import TOTP
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.db import transaction
    from django.utils import timezone

    from approvals.models import ReviewChain
    from people import roles
    from people.models import User
    from posts.models import Account, Connector, Platform
    from posts.services import campaign_create

    started = time.perf_counter()
    rng = random.Random(seed)
    hashed = make_password(password)  # one hash for everyone: each takes a third of a second

    def users(prefix: str, role: str, n: int) -> list[Any]:
        group = Group.objects.get(name=role)
        made = []
        for i in range(n):
            user = User.objects.create(
                username=f"{prefix}{i + 1}",
                email=f"{prefix}{i + 1}@klinikum-nord.example",
                password=hashed,
                time_zone="Europe/Berlin",
            )
            user.groups.add(group)
            made.append(User.objects.get(pk=user.pk))  # fresh permission caches
        return made

    with transaction.atomic():
        people = {
            "editor": users("editor", roles.EDITOR, 3),
            "medical": users("medical", roles.MEDICAL_REVIEWER, 2),
            "legal": users("legal", roles.LEGAL_REVIEWER, 1),
            "comms": users("comms", roles.COMMUNICATIONS_REVIEWER, 1),
            "viewer": users("viewer", roles.VIEWER, 1),
            "consent": users("consent", roles.CONSENT_OFFICER, 2),
            "governance": users("governance", roles.GOVERNANCE, 1),
        }
        for person in [*people["consent"], *people["governance"]]:
            TOTP.activate(person, TOTP_SECRET)
        for person in people["comms"]:  # Communications also schedules what was approved: an editor too
            person.groups.add(Group.objects.get(name=roles.EDITOR))
        accounts = Account.objects.bulk_create(
            [
                Account(
                    platform=platform,
                    name="Klinikum Nord",
                    handle=f"klinikum_nord_{platform}",
                    connector=Connector.OUTBOX,
                )
                for platform in (Platform.FACEBOOK, Platform.INSTAGRAM, Platform.LINKEDIN)
            ]
        )
        today = timezone.localdate()
        editors, comms = people["editor"], people["comms"]
        all_reviewers = [*people["medical"], *people["legal"], *comms]
        campaigns = [
            campaign_create(
                actor=editors[n % 3],
                name=f"{name} {today.year}",
                start_date=month_start(today, -6),
                end_date=month_start(today, 6) - dt.timedelta(days=1),
                goal="Inform patients and staff",
                colour=colour,
                # Each editor works on three of the five; the last campaign has one medical reviewer only.
                team=[editors[n % 3], editors[(n + 1) % 3], *comms],
                reviewers=all_reviewers if n < 4 else [people["medical"][1], *people["legal"], *comms],
            )
            for n, (name, colour) in enumerate(
                [
                    ("Hand hygiene", "#2563eb"),
                    ("Stroke awareness", "#dc2626"),
                    ("Careers in nursing", "#16a34a"),
                    ("Maternity", "#9333ea"),
                    ("Vaccination", "#ea580c"),
                ]
            )
        ]
        consents = consents_add(officer=people["consent"][0], verifier=people["consent"][1])
        chain = ReviewChain.objects.get(is_default=True, active=True)
        stages = list(chain.stages.select_related("group").order_by("position"))
        zone = timezone.get_current_timezone()
        planned = moments(posts=posts, today=today, zone=zone, rng=rng)
        kinds = posts_add(
            planned=planned,
            campaigns=campaigns,
            accounts=accounts,
            consents=consents,
            chain=chain,
            stages=stages,
            people=people,
        )
        notices_add(people)

    # Fresh statistics, as autovacuum keeps them in production: without them PostgreSQL plans the
    # inbox's and the publishing page's queries for a nearly empty table (15 s instead of 2 ms).
    from django.db import connection

    with connection.cursor() as cursor:
        vacuum = connection.vendor == "postgresql" and not connection.in_atomic_block
        cursor.execute("VACUUM ANALYZE" if vacuum else "ANALYZE")

    from posts.models import Post

    month = month_start(today, 0)
    in_month = Post.objects.filter(scheduled_at__date__gte=month, scheduled_at__date__lt=month_start(today, 1))
    editor, medical = editors[0], people["medical"][0]

    def pick(candidates: Any) -> int | None:
        """Return the first of ``candidates`` in the measured month, else of the year (a small world has few)."""
        first = (candidates & in_month).values_list("pk", flat=True).first()
        return first or candidates.values_list("pk", flat=True).first()

    return {
        "totp_secret": TOTP_SECRET,
        "users": {role: [person.username for person in group] for role, group in people.items()},
        "month": month.isoformat(),
        "campaigns": [campaign.pk for campaign in campaigns],
        # The pages of one post: a draft of the editor's, a live post they see, one at the reviewer's stage.
        "draft": pick(Post.objects.filter(status="draft", author=editor)),
        "published": pick(Post.objects.filter(status="published", campaign__team=editor)),
        "in_review": pick(
            Post.objects.filter(
                status="in_review",
                campaign__reviewers=medical,
                review_rounds__status="in_progress",
                review_rounds__stage_runs__stage=stages[0],
                review_rounds__stage_runs__status="in_progress",
            )
        ),
        "kinds": kinds,
        "posts": posts,
        "in_month": in_month.count(),
        "subjects": SUBJECTS,  # each with one consent, nine in ten of them verified
        "seconds": round(time.perf_counter() - started, 1),
    }


def consents_add(*, officer: Any, verifier: Any) -> list[Any]:
    """Create SUBJECTS people, each with one consent recorded by ``officer`` and verified by ``verifier``."""
    from django.utils import timezone

    from consent.models import ConsentRecord, ConsentSigner, Subject

    now = timezone.now()
    subjects = Subject.objects.bulk_create(
        [
            Subject(
                display_name=f"Patient {n:03d}",
                reference=f"KN-{n:05d}",
                date_of_birth=dt.date(1960 + n % 50, 1 + n % 12, 1 + n % 28),
                created_by=officer,
            )
            for n in range(SUBJECTS)
        ]
    )
    records = ConsentRecord.objects.bulk_create(
        [
            ConsentRecord(
                subject=subject,
                media_kinds=["photo", "name", "story"],
                description="Fotos auf Station und die Geschichte der Genesung",
                disclosing_organisation="Klinikum Nord",
                all_platforms=True,
                purposes=["education", "marketing"],
                expires_on=now.date() + dt.timedelta(days=30 + n * 3),
                signed_on=now.date() - dt.timedelta(days=n),
                states_right_to_revoke=True,
                states_no_conditioning=True,
                states_redisclosure=True,
                document=f"consent/bench/{n}.pdf",
                document_name=f"consent-{n}.pdf",
                document_type="application/pdf",
                document_checksum=f"{n:064x}",
                recorded_by=officer,
                verified_at=now - dt.timedelta(days=n) if n % 10 else None,  # a tenth still to verify
                verified_by=verifier if n % 10 else None,
            )
            for n, subject in enumerate(subjects)
        ]
    )
    ConsentSigner.objects.bulk_create(
        [ConsentSigner(record=record, role="subject", name=record.subject.display_name) for record in records]
    )
    return [record for record in records if record.verified_at is not None]


def posts_add(
    *,
    planned: list[dt.datetime],
    campaigns: list[Any],
    accounts: list[Any],
    consents: list[Any],
    chain: Any,
    stages: list[Any],
    people: dict[str, list[Any]],
) -> dict[str, int]:
    """Bulk-create a post for each planned moment with its targets, revision, review and publications."""
    from collections import Counter

    from django.db.models import OuterRef, Subquery
    from django.utils import timezone

    from posts.content import content_hash, content_snapshot_of
    from posts.models import FeaturedPerson, Post, PostTarget, Revision

    now = timezone.now()
    kinds: Counter[str] = Counter()
    for start in range(0, len(planned), BATCH):
        chunk = []
        for n, at in enumerate(planned[start : start + BATCH], start=start):
            pattern = PAST if at < now else FUTURE
            kind = pattern[n % len(pattern)]
            campaign = campaigns[n % len(campaigns)]
            # Campaign c's team (see `build`): editors c and c + 1; they take turns.
            author = people["editor"][(n % len(campaigns) + n // len(campaigns) % 2) % 3]
            language, title, body = TEXTS[n % len(TEXTS)]
            post = Post(
                campaign=campaign,
                author=author,
                title=f"{title} ({n + 1})",
                body=body,
                link="https://www.klinikum-nord.example/aktuelles",
                hashtags=["KlinikumNord", "Gesundheit"],
                language=language,
                status=STATUS[kind],
                scheduled_at=at,
                time_zone="Europe/Berlin",
            )
            chunk.append((post, kind))
            kinds[kind] += 1
        made = insert([post for post, _ in chunk])
        targets = [
            PostTarget(post=post, account=accounts[(post.pk + k) % len(accounts)])
            for post in made
            for k in range(1 + post.pk % 2)
        ]
        insert(targets)
        featured = [
            FeaturedPerson(post=post, subject_id=consent.subject_id, consent=consent, media_kinds=["photo"])
            for post in made
            if post.pk % 20 == 0 and consents
            for consent in [consents[post.pk % len(consents)]]
        ]
        insert(featured)
        targets_of: dict[int, list[Any]] = {}
        for target in targets:
            targets_of.setdefault(target.post_id, []).append(target)
        featured_of = {person.post_id: [person] for person in featured}
        revisions = []
        for post in made:
            snapshot = content_snapshot_of(
                post=post, targets=targets_of[post.pk], media=[], featured=featured_of.get(post.pk, [])
            )
            revisions.append(
                Revision(
                    post=post,
                    number=1,
                    content=snapshot,
                    content_hash=content_hash(snapshot),
                    created_by=post.author,
                )
            )
        revisions = insert(revisions)
        for (post, _), revision in zip(chunk, revisions, strict=True):
            post.current_revision = revision
            if post.status in APPROVED:
                post.approved_hash = revision.content_hash
        # One UPDATE from the revisions (bulk_update's CASE per row took a quarter of the time).
        revision = Revision.objects.filter(post=OuterRef("pk"))
        batch = Post.objects.filter(pk__in=[post.pk for post in made])
        batch.update(current_revision=Subquery(revision.values("pk")[:1]))
        batch.filter(status__in=APPROVED).update(approved_hash=Subquery(revision.values("content_hash")[:1]))
        reviews_add(chunk=chunk, revisions=revisions, chain=chain, stages=stages, people=people, now=now)
        publications_add(chunk=chunk, targets_of=targets_of, now=now)
    return dict(sorted(kinds.items()))


STATUS = {
    "published": "published",
    "partially_published": "partially_published",
    "withdrawn": "withdrawn",
    "draft": "draft",
    "at_medical": "in_review",
    "at_legal": "in_review",
    "at_comms": "in_review",
    "changes": "changes_requested",
    "approved": "approved",
    "scheduled": "scheduled",
}
APPROVED = {"approved", "scheduled", "published", "partially_published", "withdrawn"}  # every stage approved
# Each kind's stage statuses, medical, legal, communications (a withdrawn post was approved first).
STAGES = {
    "at_medical": ["in_progress", "waiting", "waiting"],
    "at_legal": ["approved", "in_progress", "waiting"],
    "at_comms": ["approved", "approved", "in_progress"],
    "changes": ["approved", "changes_requested", "closed"],
}


def reviews_add(
    *,
    chain: Any,
    chunk: list[tuple[Any, str]],
    revisions: list[Any],
    stages: list[Any],
    people: dict[str, list[Any]],
    now: dt.datetime,
) -> None:
    """Bulk-create the review round, stage runs, decisions and comments of each submitted post."""
    from approvals.models import (
        AnchorKind,
        Confirmation,
        Decision,
        ReviewComment,
        ReviewCommentReply,
        ReviewRound,
        StageRun,
    )

    submitted = [
        (post, kind, revision) for (post, kind), revision in zip(chunk, revisions, strict=True) if kind != "draft"
    ]
    rounds = []
    for post, kind, revision in submitted:
        sent = min(post.scheduled_at, now) - dt.timedelta(days=3, hours=post.pk % 48)
        finished = sent + dt.timedelta(days=2) if kind not in STAGES or kind == "changes" else None
        rounds.append(
            ReviewRound(
                post=post,
                chain=chain,
                revision=revision,
                content_hash=revision.content_hash,
                status="in_progress"
                if finished is None
                else ("changes_requested" if kind == "changes" else "approved"),
                submitted_by=post.author,
                submitted_at=sent,
                finished_at=finished,
            )
        )
    rounds = insert(rounds)
    runs = []
    for review_round, (post, kind, _) in zip(rounds, submitted, strict=True):
        for stage, state in zip(stages, STAGES.get(kind, ["approved"] * 3), strict=True):
            started = review_round.submitted_at if state != "waiting" else None
            runs.append(
                StageRun(
                    round=review_round,
                    stage=stage,
                    status=state,
                    started_at=started,
                    deadline=now + dt.timedelta(hours=post.pk % 96 - 12) if state == "in_progress" else None,
                    finished_at=review_round.submitted_at + dt.timedelta(hours=20)
                    if state in {"approved", "changes_requested"}
                    else None,
                )
            )
    runs = insert(runs)
    reviewer_of = {stage.pk: people[role] for stage, role in zip(stages, ("medical", "legal", "comms"), strict=True)}
    decisions = []
    for run in runs:
        if run.status not in {"approved", "changes_requested"}:
            continue
        group = reviewer_of[run.stage_id]
        reviewer = group[run.round_id % len(group)]
        approve = run.status == "approved"
        decisions.append(
            Decision(
                stage_run=run,
                reviewer=reviewer,
                verdict="approve" if approve else "request_changes",
                comment="" if approve else "Bitte die Quelle nennen.",
                content_hash=run.round.content_hash,
                signer_name=reviewer.username,
                signer_time_zone="Europe/Berlin",
                signer_role=run.stage.group.name,
                confirmation=Confirmation.PASSWORD,
            )
        )
    insert(decisions)
    discussed = [(post, revision) for post, _, revision in submitted if post.pk % 4 == 0]
    comments = insert(
        [
            ReviewComment(
                post=post,
                revision=revision,
                group=stages[0].group if n == 0 else None,
                anchor_kind=AnchorKind.BODY,
                quote=post.body[at : at + 12],
                prefix=post.body[:at][-64:],
                suffix=post.body[at + 12 :][:64],
                start=at,
                end=at + 12,
                text="Bitte belegen: gilt das auch für Kinder unter 6 Jahren?",
                blocking=n == 0 and post.status == "in_review",
                author=people["medical"][0] if n == 0 else post.author,
            )
            for post, revision in discussed
            for n, at in enumerate((0, 20))
        ]
    )
    insert(
        [
            ReviewCommentReply(comment=comment, author=comment.post.author, text="Erledigt, danke.")
            for comment in comments
        ]
    )


def publications_add(*, chunk: list[tuple[Any, str]], targets_of: dict[int, list[Any]], now: dt.datetime) -> None:
    """Bulk-create a publication per target of each live, withdrawn or scheduled post."""
    from publishing.models import Publication

    made = []
    for post, kind in chunk:
        if kind not in {"published", "partially_published", "withdrawn", "scheduled"}:
            continue
        for k, target in enumerate(targets_of[post.pk]):
            status = {"scheduled": "pending", "withdrawn": "cancelled"}.get(kind, "confirmed")
            if kind == "partially_published" and k:
                status = "failed"
            sent = status in {"confirmed", "failed"}
            made.append(
                Publication(
                    post=post,
                    account=target.account,
                    status=status,
                    due_at=post.scheduled_at,
                    next_attempt_at=post.scheduled_at,
                    attempts=1 if sent else 0,
                    content_hash=post.current_revision.content_hash,
                    external_id=f"{post.pk}_{k}" if status == "confirmed" else "",
                    url=f"https://example.org/klinikum/{post.pk}/{k}" if status == "confirmed" else "",
                    last_error="The platform answered 503." if status == "failed" else "",
                    published_at=post.scheduled_at if status == "confirmed" else None,
                )
            )
    insert(made)


def insert(objs: list[Any]) -> list[Any]:
    """Insert ``objs`` (all of one model) and give them their ids: COPY on PostgreSQL, else ``bulk_create``.

    COPY skips Django's building of one INSERT per batch (a third of the time at 20,000 posts); the ids
    come from the table's sequence first, as an INSERT would take them.
    """
    from django.db import connection

    if not objs:
        return objs
    model = type(objs[0])
    if connection.vendor != "postgresql":
        return model.objects.bulk_create(objs)
    meta = model._meta
    fields = meta.concrete_fields
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(objs)],
        )
        for obj, (pk,) in zip(objs, cursor.fetchall(), strict=True):
            obj.pk = pk
        columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
        with cursor.copy(f"COPY {connection.ops.quote_name(meta.db_table)} ({columns}) FROM STDIN") as copy:
            for obj in objs:
                copy.write_row([field.get_db_prep_save(field.pre_save(obj, add=True), connection) for field in fields])
    for obj in objs:
        obj._state.adding, obj._state.db = False, connection.alias
    return objs


def notices_add(people: dict[str, list[Any]]) -> None:
    """Give every editor and reviewer 40 notices, half of them unread."""
    from django.utils import timezone

    from people.models import Notice

    now = timezone.now()
    Notice.objects.bulk_create(
        [
            Notice(
                user=person,
                key=f"bench.volume.{n}",
                subject=f"Post {n} was reviewed",
                url="/reviews/",
                created_at=now - dt.timedelta(hours=n),
                read_at=None if n % 2 else now,
            )
            for role in ("editor", "medical", "legal", "comms")
            for person in people[role]
            for n in range(40)
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.lib.volume", description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--password", default="bench-password", help="everyone's password")
    args = parser.parse_args()

    import django

    django.setup()
    print(json.dumps(build(posts=args.posts, password=args.password)))


if __name__ == "__main__":
    main()
