"""What posts do when consent ends: block what is not out yet, list what must come down."""

from typing import Any

from django.dispatch import receiver

from consent.models import ConsentRecord
from consent.signals import consent_lapsed, consent_revoked
from posts.services import consent_cascade


@receiver(consent_revoked, dispatch_uid="posts.block_on_revocation")
def _block_on_revocation(*, record: ConsentRecord, actor: Any, **kwargs: Any) -> None:
    consent_cascade(record=record, actor=actor, reason="consent revoked")


@receiver(consent_lapsed, dispatch_uid="posts.block_on_expiry")
def _block_on_expiry(*, record: ConsentRecord, **kwargs: Any) -> None:
    consent_cascade(record=record, actor=None, reason="consent expired")


def reviewer_may_read_document(user: Any, record: ConsentRecord) -> bool:
    """Reviewers assigned to a campaign with a post that relies on ``record`` may read its form."""
    return ConsentRecord.objects.filter(pk=record.pk, featured_in__post__campaign__reviewers=user).exists()
