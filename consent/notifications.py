"""E-mails about consent: the 30-day expiry reminder to consent officers."""

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
