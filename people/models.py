import functools
import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.inputs import date_in_range


@functools.cache
def time_zone_choices() -> list[tuple[str, str]]:
    """Return every IANA zone as a choice (cached: scanning the zone database is slow)."""
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


class EmailDelivery(models.TextChoices):
    """How a person hears of what Rounds tells them besides the in-app notices."""

    EACH = "each", _("An e-mail for each event")
    DIGEST = "digest", _("One e-mail a day with the day's notices")
    NONE = "none", _("No e-mail: in Rounds only")


class User(AbstractUser):
    """A person using Rounds; sees times in their own zone and the UI in their language."""

    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/Berlin", choices=time_zone_choices)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE)
    # AbstractUser's, bounded: the admin lets staff type them.
    last_login = models.DateTimeField(_("last login"), blank=True, null=True, validators=[date_in_range])
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now, validators=[date_in_range])
    email_delivery = models.CharField(
        _("e-mail notifications"), max_length=8, choices=EmailDelivery.choices, default=EmailDelivery.EACH
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        swappable = "AUTH_USER_MODEL"

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class DeputyPeriod(models.Model):
    """While ``user`` is away (``starts`` to ``ends``, both days included), ``deputy`` gets their review mail.

    The deputy decides only what their own groups let them decide: the relation routes reminders,
    escalations and the inbox's notice, it grants nothing.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("absent reviewer"), on_delete=models.CASCADE, related_name="absences"
    )
    deputy = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("deputy"), on_delete=models.PROTECT, related_name="deputy_for"
    )
    starts = models.DateField(_("first day away"), validators=[date_in_range])
    ends = models.DateField(_("last day away"), validators=[date_in_range])
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("deputy period")
        verbose_name_plural = _("deputy periods")
        ordering = ["user", "starts", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends__gte=models.F("starts")),
                name="deputy_period_ends_after",
                violation_error_message=_("The last day away cannot come before the first."),
            ),
            models.CheckConstraint(
                condition=~models.Q(deputy=models.F("user")),
                name="deputy_not_self",
                violation_error_message=_("Choose someone else as your deputy."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.deputy} ({self.starts} to {self.ends})"


class Notice(models.Model):
    """One thing Rounds told one person (a copy of each mail, or what the mail would have said), read or not."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices", verbose_name=_("user")
    )
    key = models.CharField(_("event"), max_length=200)
    subject = models.CharField(_("subject"), max_length=300)
    url = models.CharField(_("link"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One notice per person per event: a task delivered twice tells nobody twice.
            models.UniqueConstraint(fields=["user", "key"], name="people_notice_once_per_event"),
        ]
        indexes = [models.Index(fields=["user", "read_at"], name="people_notice_unread")]

    def __str__(self) -> str:
        return self.subject
