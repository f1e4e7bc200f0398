"""What posts do when consent ends: block what is not out yet, list what must come down."""

from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import F
from django.dispatch import receiver
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from consent.models import ConsentRecord, Subject
from consent.selectors import RegistryPanel
from consent.signals import consent_lapsed, consent_revoked
from core.i18n import StoredMessage
from people.models import User
from posts.models import FeaturedPerson, PostStatus
from posts.selectors import posts_for_user
from posts.services import consent_cascade

# The reasons a cascade records, stored in English and shown in the reader's language.
CONSENT_REVOKED = StoredMessage(gettext_noop("consent revoked"))
CONSENT_EXPIRED = StoredMessage(gettext_noop("consent expired"))


@receiver(consent_revoked, dispatch_uid="posts.block_on_revocation")
def _block_on_revocation(*, record: ConsentRecord, actor: User, **kwargs: Any) -> None:
    consent_cascade(record=record, actor=actor, reason=CONSENT_REVOKED.english())


@receiver(consent_lapsed, dispatch_uid="posts.block_on_expiry")
def _block_on_expiry(*, record: ConsentRecord, **kwargs: Any) -> None:
    consent_cascade(record=record, actor=None, reason=CONSENT_EXPIRED.english())


def posts_featuring_panel(
    user: User | AnonymousUser, subject: Subject, records: Sequence[ConsentRecord]
) -> RegistryPanel:
    """The consent registry's "posts using this person" block: every post featuring them, any state."""
    people = list(
        FeaturedPerson.objects.filter(subject=subject)
        .select_related("post", "consent")
        .order_by(F("post__scheduled_at").desc(nulls_last=True), "-post__pk")
    )
    # A Consent officer on no campaign's team sees the posts named, not a link that would answer 404.
    visible = set(
        posts_for_user(user=user).filter(pk__in=[person.post_id for person in people]).values_list("pk", flat=True)
    )
    items = [
        {
            "url": reverse("posts:post_detail", args=[person.post_id]) if person.post_id in visible else "",
            "label": str(person.post),
            "note": " · ".join(
                filter(
                    None,
                    [
                        str(PostStatus(person.post.status).label),
                        _("consent signed %(date)s")
                        % {"date": formats.date_format(person.consent.signed_on, "SHORT_DATE_FORMAT")}
                        if person.consent
                        else "",
                    ],
                )
            ),
        }
        for person in people
    ]
    return RegistryPanel(
        template_name="consent/_panel_links.html",
        order=50,
        context={"title": _("Posts featuring this person"), "items": items, "empty": _("No post features them.")},
    )
