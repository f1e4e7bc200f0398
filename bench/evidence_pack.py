"""Time the evidence pack of one post with 5 targets, 3 review rounds and 200 audit events; print one JSON line.

Run: ``.venv/bin/python bench/evidence_pack.py``. Uses a throw-away SQLite file. The post is built
through the real services (a verified consent, two rounds sent back by Medical, a third approved
by Medical, Legal and Communications, then scheduled); its five publications are then marked
confirmed with platform ids (sending them would measure publishing), and events are added to
the post until its record holds 200. The measured call is `evidence.packs.pack_build`, as the
download view makes it: facts, PDF, JSON, FHIR bundle, manifest, signature and its audit event.
Goal (issue 16): median <= 1 s.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import datetime as dt
import io
import json
import os
import statistics
import tempfile
import time
from typing import Any

SAMPLES = int(os.environ.get("BENCH_SAMPLES", 9))
TARGETS = 5
ROUNDS = 3
EVENTS = 200
GOAL_SECONDS = 1.0
BODY = (
    "Frau Müller (72) erzählt: »Nach der OP am 03.04.2025 ging's bergauf!« 💪 "
    "Sprechstunde Kardiologie: +49 221 555-0199, Haus B, Ebene 2. Ğüzel haber · 東京からも応援."
)
PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def configure() -> tempfile.TemporaryDirectory[str]:
    scratch = tempfile.TemporaryDirectory(prefix="rounds-bench-")
    os.environ["DJANGO_SETTINGS_MODULE"] = "calendar_project.settings"
    os.environ["ROUNDS_DEBUG"] = "1"
    os.environ["DATABASE_URL"] = f"sqlite:///{scratch.name}/bench.sqlite3"
    os.environ["ROUNDS_MEDIA_ROOT"] = str(Path(scratch.name) / "media")
    os.environ["ROUNDS_PRIVATE_MEDIA_ROOT"] = str(Path(scratch.name) / "private")
    os.environ["ROUNDS_EVIDENCE_KEY_FILE"] = str(Path(scratch.name) / "keys" / "evidence-signing.pem")
    os.environ.setdefault("ROUNDS_EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
    os.environ.setdefault("ROUNDS_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    return scratch


def user(name: str, role: str, first: str, last: str) -> Any:
    from django.contrib.auth.models import Group

    from people.models import User

    person = User.objects.create_user(
        username=name, password="x", email=f"{name}@example.org", first_name=first, last_name=last
    )
    person.groups.add(Group.objects.get(name=role))
    return User.objects.get(pk=person.pk)


def build() -> Any:
    """Return the post: published on five accounts, three rounds, a consent, 200 events in its record."""
    from django.utils import timezone

    from approvals.models import Verdict
    from approvals.policy import current_stage_run
    from approvals.services import decision_record, finding_keys, round_submit
    from audit.models import AuditEvent
    from audit.services import EventSpec, events_record_many
    from consent.services import SignerSpec, consent_record_create, consent_verify, subject_create
    from evidence.facts import post_facts
    from people import roles
    from posts.models import Account
    from posts.services import FeatureSpec, TargetSpec, campaign_create, post_create, post_schedule, post_update
    from publishing.models import Publication, PublicationStatus

    editor = user("bench_editor", roles.EDITOR, "Jana", "Öztürk")
    reviewers = {
        "medical": user("bench_medical", roles.MEDICAL_REVIEWER, "Zoë", "Müller"),
        "legal": user("bench_legal", roles.LEGAL_REVIEWER, "Ayşe", "Yılmaz"),  # noqa: RUF001
        "comms": user("bench_comms", roles.COMMUNICATIONS_REVIEWER, "Kenji", "Satō"),
    }
    officer = user("bench_consent", roles.CONSENT_OFFICER, "Lena", "Brandt")
    officer2 = user("bench_consent2", roles.CONSENT_OFFICER, "Ali", "Hassan")
    today = timezone.localdate()
    campaign = campaign_create(
        actor=editor,
        name="Herzwochen",
        start_date=today - dt.timedelta(days=30),
        end_date=today + dt.timedelta(days=60),
        reviewers=list(reviewers.values()),
    )
    platforms = ("facebook", "linkedin", "x", "facebook", "linkedin")
    accounts = [
        Account.objects.create(platform=platform, name=f"Klinikum Nord {n}", handle=f"klinikum_nord_{n}")
        for n, platform in enumerate(platforms[:TARGETS])
    ]
    anna = subject_create(actor=officer, data={"display_name": "Anna Müller", "reference": "PAT-0042"})
    consent = consent_record_create(
        actor=officer,
        subject=anna,
        data={
            "media_kinds": ["photo", "name", "story"],
            "description": "Foto und Geschichte von Frau Müller",
            "disclosing_organisation": "Klinikum Nord",
            "all_platforms": True,
            "purposes": ["education"],
            "signed_on": today - dt.timedelta(days=10),
            "expires_on": today + dt.timedelta(days=365),
            "states_right_to_revoke": True,
            "states_no_conditioning": True,
            "states_redisclosure": True,
            "copy_given_on": today - dt.timedelta(days=10),
            "copy_given_how": "handed_over",
        },
        signers=[SignerSpec(role="subject", name="Anna Müller")],
        document=io.BytesIO(PDF_BYTES),
        document_name="form.pdf",
    )
    consent = consent_verify(record=consent, actor=officer2)
    post = post_create(
        actor=editor,
        campaign=campaign,
        data={"body": BODY, "title": "Anna Müllers Geschichte", "content_type": "patient_story"},
        targets=[TargetSpec(account=account) for account in accounts],
        scheduled_at=timezone.now() + dt.timedelta(days=6),
    )
    post_update(
        post=post, actor=editor, featured=[FeatureSpec(subject=anna, consent=consent, media_kinds=("photo", "story"))]
    )
    for n in range(ROUNDS - 1):
        post.refresh_from_db()
        round_submit(post=post, actor=editor)
        post.refresh_from_db()
        decision_record(
            stage_run=current_stage_run(post=post),
            reviewer=reviewers["medical"],
            verdict=Verdict.REQUEST_CHANGES,
            comment=f"Bitte die Telefonnummer prüfen ({n + 1}).",
        )
        post.refresh_from_db()
        post_update(post=post, actor=editor, data={"body": f"{BODY} Stand {n + 2}."})
    post.refresh_from_db()
    round_submit(post=post, actor=editor)
    for name in ("medical", "legal", "comms"):
        post.refresh_from_db()
        decision_record(
            stage_run=current_stage_run(post=post),
            reviewer=reviewers[name],
            verdict=Verdict.APPROVE,
            acknowledged=finding_keys(post=post),
        )
    post.refresh_from_db()
    post_schedule(post=post, actor=editor)
    post.refresh_from_db()
    now = timezone.now()
    for publication in Publication.objects.filter(post=post):
        # Bench data only: what a confirmed send leaves behind, without sending.
        Publication.objects.filter(pk=publication.pk).update(
            status=PublicationStatus.CONFIRMED,
            external_id=f"1784{publication.pk:08d}",
            url=f"https://www.facebook.com/klinikum_nord/posts/1784{publication.pk:08d}",
            published_at=now,
            content_hash=post.approved_hash,
            attempts=1,
        )
    have = len(post_facts(post=post, now=now).facts["events"])
    events_record_many(
        actor=editor,
        events=[
            EventSpec(action="post.viewed_history", obj=post, changes={"n": n, "note": "Müller, Ğ, 東京"})
            for n in range(max(0, EVENTS - have))
        ],
    )
    assert len(post_facts(post=post, now=now).facts["events"]) == EVENTS, "the record should hold 200 events"
    assert AuditEvent.objects.exists()
    return post, reviewers["legal"]


def main() -> None:
    started = time.perf_counter()
    scratch = configure()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from evidence.packs import pack_build, pack_verify

    post, legal = build()
    pack_build(post=post, actor=legal)  # fonts registered, key loaded: not part of a download
    times = []
    size = 0
    for _sample in range(SAMPLES):
        begin = time.perf_counter()
        pack = pack_build(post=post, actor=legal)
        times.append(time.perf_counter() - begin)
        size = len(pack.data)
    problems = pack_verify(pack.data)
    median = statistics.median(times)
    print(
        json.dumps(
            {
                "bench": "evidence_pack",
                "targets": TARGETS,
                "rounds": ROUNDS,
                "events": EVENTS,
                "samples": SAMPLES,
                "median_s": round(median, 3),
                "max_s": round(max(times), 3),
                "first_s": round(times[0], 3),
                "zip_bytes": size,
                "verified": not problems,
                "goal_s": GOAL_SECONDS,
                "ok": median <= GOAL_SECONDS and not problems,
            }
        )
    )
    print(f"(setup and measurement took {time.perf_counter() - started:.0f} s)", file=sys.stderr)
    scratch.cleanup()


if __name__ == "__main__":
    main()
