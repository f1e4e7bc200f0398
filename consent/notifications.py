"""E-mails about consent to consent officers: the 30-day expiry reminder and the re-consent notice at 18."""

from django.urls import reverse

from consent.models import ConsentRecord
from core.mail import mail_once
from people.models import User
from people.roles import CONSENT_OFFICER


def expiry_reminder_send(*, record: ConsentRecord) -> int:
    """Tell every active consent officer that ``record`` expires soon, once per expiry date; returns mails sent."""
    officers = User.objects.filter(groups__name=CONSENT_OFFICER, is_active=True).distinct().order_by("pk")
    return mail_once(
        # The date is part of the event: a consent whose expiry moves is reminded of the new date.
        key=f"consent_expiry:{record.pk}:{record.expires_on}",
        recipients=officers,
        template="consent/email/expiry_reminder",
        context={"record": record},
        url=reverse("consent:record_detail", args=[record.pk]),
    )


def reconsent_notice_send(*, record: ConsentRecord) -> int:
    """Tell every active consent officer that ``record``'s person turns 18 and must consent again; returns mails."""
    officers = User.objects.filter(groups__name=CONSENT_OFFICER, is_active=True).distinct().order_by("pk")
    return mail_once(
        # The birthday is part of the event: a corrected date of birth is announced again.
        key=f"consent_reconsent:{record.pk}:{record.reconsent_due_on}",
        recipients=officers,
        template="consent/email/reconsent_notice",
        context={"record": record},
        url=reverse("consent:record_detail", args=[record.pk]),
    )
