"""E-mails about consent: the 30-day expiry reminder to consent officers."""

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.template.loader import render_to_string
from django.utils import translation

from consent.models import ConsentRecord
from people.models import User
from people.roles import CONSENT_OFFICER


def expiry_reminder_send(*, record: ConsentRecord) -> int:
    """Tell every active consent officer that ``record`` expires soon; returns mails sent."""
    officers = User.objects.filter(groups__name=CONSENT_OFFICER, is_active=True).exclude(email="").distinct()
    messages = []
    for user in officers:
        with translation.override(user.language or settings.LANGUAGE_CODE):
            context = {"record": record, "user": user}
            subject = render_to_string("consent/email/expiry_reminder_subject.txt", context).strip()
            body = render_to_string("consent/email/expiry_reminder.txt", context)
        messages.append(EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email]))
    return get_connection().send_messages(messages) or 0 if messages else 0
