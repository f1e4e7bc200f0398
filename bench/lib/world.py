"""The people and posts of a load run, made in a process whose Django uses the scratch database.

    python -m bench.lib.world --editors 3 --reviewers 3 --posts 12 --in-review 4 --password P

Prints one JSON line: the usernames per role and the ids of the posts (drafts and in review).
Content is written the way a hospital writes it: dates, times, phone numbers, umlauts, a source.
"""

import argparse
import datetime as dt
import json
from typing import Any

TEXTS = [
    (
        "de",
        "Infotag Geburtshilfe",
        "Infotag am 12.12.2026 von 10:00 bis 14:00 Uhr im Kreißsaal-Foyer, Haus B. "
        "Hebammen und Ärztinnen beantworten Ihre Fragen. Anmeldung unter 030 1234567.",
    ),
    (
        "de",
        "Grippeimpfung für Mitarbeitende",
        "Ab Montag impft der Betriebsärztliche Dienst täglich 8–12 Uhr in Raum 0.14. "  # noqa: RUF001
        "Bitte Impfpass mitbringen. Fragen: betriebsarzt@klinikum-nord.example",
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
        "Pflege-Azubis gesucht 💙",
        "Starte am 1. Oktober deine Ausbildung zur Pflegefachfrau / zum Pflegefachmann bei uns! "
        "Bewerbungen bis 31.07. an karriere@klinikum-nord.example – wir freuen uns auf dich.",  # noqa: RUF001
    ),
]


def build(
    *, editors: int, reviewers: int, viewers: int, posts: int, in_review: int, password: str, first_stage_all: bool
) -> dict[str, Any]:
    """Create the users, two outbox accounts, a campaign and ``posts`` posts, the first ``in_review`` submitted.

    ``first_stage_all``: the default chain's first stage needs an approval from every one of its
    ``reviewers`` (rule "a number"), so they all decide the same stage.
    """
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from approvals.models import ApprovalRule, ReviewChain, ReviewStage
    from approvals.services import round_submit
    from people import roles
    from people.models import User
    from posts.models import Account, Connector
    from posts.services import TargetSpec, account_save, campaign_create, post_create

    def users(prefix: str, role: str, n: int) -> list[Any]:
        made = []
        for i in range(n):
            user = User.objects.create_user(
                username=f"{prefix}{i + 1}", password=password, email=f"{prefix}{i + 1}@klinikum-nord.example"
            )
            user.groups.add(Group.objects.get(name=role))
            made.append(User.objects.get(pk=user.pk))
        return made

    team = users("editor", roles.EDITOR, editors)
    medical = users("medical", roles.MEDICAL_REVIEWER, reviewers)
    legal = users("legal", roles.LEGAL_REVIEWER, max(1, reviewers // 2))
    comms = users("comms", roles.COMMUNICATIONS_REVIEWER, max(1, reviewers // 2))
    for person in comms:  # Communications also schedules what was approved: an editor of the campaign
        person.groups.add(Group.objects.get(name=roles.EDITOR))
    seeing = users("viewer", roles.VIEWER, viewers)
    governance = users("governance", roles.GOVERNANCE, 1)[0]
    accounts = [
        account_save(
            account=Account(platform=platform, name=name, handle=handle, connector=Connector.OUTBOX),
            actor=governance,
        )
        for platform, name, handle in [
            ("facebook", "Klinikum Nord", "klinikumnord"),
            ("instagram", "Klinikum Nord", "klinikum.nord"),
        ]
    ]
    today = timezone.localdate()
    campaign = campaign_create(
        actor=team[0],
        name="Winter 2026",
        start_date=today - dt.timedelta(days=30),
        end_date=today + dt.timedelta(days=90),
        goal="Inform patients and staff",
        team=[*team, *comms],
        reviewers=[*medical, *legal, *comms],
    )
    made = []
    for i in range(posts):
        language, title, body = TEXTS[i % len(TEXTS)]
        at = timezone.now().replace(minute=0, second=0, microsecond=0) + dt.timedelta(days=3 + i % 40, hours=i % 9)
        made.append(
            post_create(
                actor=team[i % len(team)],
                campaign=campaign,
                data={
                    "title": f"{title} ({i + 1})",
                    "body": body,
                    "link": "https://www.klinikum-nord.example/aktuelles",
                    "hashtags": ["KlinikumNord", "Gesundheit"],
                    "content_type": "education",
                    "language": language,
                    "sources": "Robert Koch-Institut, Epidemiologisches Bulletin 2026" if i % 2 else "",
                },
                targets=[TargetSpec(account=accounts[i % len(accounts)])],
                scheduled_at=at,
                time_zone="Europe/Berlin",
            )
        )
    if first_stage_all:
        chain = ReviewChain.objects.get(is_default=True, active=True)
        first = chain.stages.order_by("position")[0]
        ReviewStage.objects.filter(pk=first.pk).update(rule=ApprovalRule.COUNT, required_approvals=reviewers)
    reviewing = []
    for post in made[:in_review]:
        round_submit(post=post, actor=team[made.index(post) % len(team)])
        reviewing.append(post.pk)
    return {
        "editors": [u.username for u in team],
        "medical": [u.username for u in medical],
        "legal": [u.username for u in legal],
        "comms": [u.username for u in comms],
        "viewers": [u.username for u in seeing],
        "governance": governance.username,
        "posts": [p.pk for p in made],
        "in_review": reviewing,
        "drafts": [p.pk for p in made[in_review:]],
        "campaign": campaign.pk,
        "accounts": [a.pk for a in accounts],
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.lib.world")
    parser.add_argument("--editors", type=int, default=3)
    parser.add_argument("--reviewers", type=int, default=3)
    parser.add_argument("--viewers", type=int, default=1)
    parser.add_argument("--posts", type=int, default=10)
    parser.add_argument("--in-review", type=int, default=0)
    parser.add_argument("--first-stage-all", type=int, default=0)
    parser.add_argument("--password", required=True)
    args = parser.parse_args()

    import django

    django.setup()
    print(
        json.dumps(
            build(
                editors=args.editors,
                reviewers=args.reviewers,
                viewers=args.viewers,
                posts=args.posts,
                in_review=args.in_review,
                password=args.password,
                first_stage_all=bool(args.first_stage_all),
            )
        )
    )


if __name__ == "__main__":
    main()
