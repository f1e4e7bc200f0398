"""Every periodic job of Rounds, declared in one place and synced to django-q2 after migrate."""

from django.conf import settings
from django_q.models import Schedule

PREFIX = "rounds:"

# name: (dotted function path, minutes between runs)
SCHEDULES: dict[str, tuple[str, int]] = {
    "review-reminders": ("approvals.notifications.reminders_send", 5),
    # The publish dispatcher's pass, once a minute: catches what was missed while it was down.
    "publish-safety-net": ("publishing.services.dispatch_once", 1),
    "consent-expiries": ("consent.services.consent_expiries_process", 60),
    # Approved posts whose approval expired before they went out go back to review.
    "approval-expiries": ("approvals.expiry_services.approvals_expire", 60),
    # Hourly: each person who chose a daily digest gets yesterday's notices once their own day ended.
    "notice-digests": ("people.notifications.digests_send", 60),
    "consent-expiry-reminders": ("consent.services.consent_expiry_reminders_send", 60 * 24),
    # Consents signed for a minor who turns 18 within ROUNDS_RECONSENT_NOTICE_DAYS: officers told once.
    "consent-reconsent-notices": ("consent.services.consent_reconsent_notices_send", 60 * 24),
    # Signs the audit chain's newest event (docs/security.md); verify_audit fails when events go
    # unsigned for twice this interval.
    # Images kept from a refused editor save (posts.pending) are deleted after a day.
    "kept-images-purge": ("posts.pending.pending_purge", 60),
    # Image checks lost on the way (a worker stopped, the queue down) are queued again (posts.scans).
    "media-scans-resume": ("posts.scans.media_scans_resume", 5),
    # Link cards nobody asked for within ROUNDS_LINKCARD_DAYS go, with their images.
    "linkcards-purge": ("posts.linkcards.linkcards_purge", 60 * 24),
    # Daily: what is past its retention rule and under no legal hold (evidence.retention).
    "retention-purge": ("evidence.retention.retention_purge_task", 60 * 24),
    "audit-checkpoint": ("audit.checkpoints.checkpoint_write", settings.ROUNDS_AUDIT_CHECKPOINT_MINUTES),
}


def schedules_sync() -> None:
    """Create or update the declared schedules; remove ours that are no longer declared."""
    names = [PREFIX + name for name in SCHEDULES]
    for name, (func, minutes) in SCHEDULES.items():
        Schedule.objects.update_or_create(
            name=PREFIX + name,
            defaults={"func": func, "schedule_type": Schedule.MINUTES, "minutes": minutes, "repeats": -1},
        )
    Schedule.objects.filter(name__startswith=PREFIX).exclude(name__in=names).delete()
