import hashlib
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

GENESIS_HASH = "0" * 64
MAIL_KEY_MAX_LENGTH = 100
# What ``json.dumps(..., sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)`` writes,
# without building an encoder for every event.
_CANONICAL = DjangoJSONEncoder(sort_keys=True, separators=(",", ":"))


class AppendOnlyError(Exception):
    """Raised on any attempt to change or delete an audit event through the ORM."""


def object_type_of(model: "type[models.Model] | models.Model") -> str:
    """Return the type an object's events are filed under: its ``audit_object_type``, or its model's label."""
    # A model that moved between apps keeps its old label here, so its history stays one (the chain
    # of hashes forbids rewriting the events already written).
    return getattr(model, "audit_object_type", None) or model._meta.label_lower


# The actor name of events no person caused (jobs, the scheduler); shown translated.
SYSTEM_ACTOR = "system"


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("Audit events are append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit events are append-only.")

    def for_object(self, obj: models.Model) -> "AuditEventQuerySet":
        return self.filter(object_type=object_type_of(obj), object_id=str(obj.pk))


class AuditEvent(models.Model):
    """One state change: who did what to which object (and which content), and when.

    Each event carries the hash of the one before it, so a changed or removed row breaks
    the chain (``manage.py verify_audit``).
    """

    seq = models.PositiveBigIntegerField(_("sequence number"), unique=True, editable=False)
    created_at = models.DateTimeField(_("time"), editable=False, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_events",
    )
    actor_repr = models.CharField(_("actor name"), max_length=200, blank=True)
    action = models.CharField(_("action"), max_length=100, db_index=True)
    object_type = models.CharField(_("object type"), max_length=100)
    object_id = models.CharField(_("object id"), max_length=64)
    object_repr = models.CharField(_("object"), max_length=300, blank=True)
    content_hash = models.CharField(_("content hash"), max_length=64, blank=True)
    changes = models.JSONField(_("changed data"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    prev_hash = models.CharField(_("previous hash"), max_length=64, unique=True, editable=False)
    hash = models.CharField(_("hash"), max_length=64, unique=True, editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-seq"]
        indexes = [models.Index(fields=["object_type", "object_id", "seq"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_repr}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit events are append-only.")

    def compute_hash(self) -> str:
        """Return the SHA-256 of this event's canonical content and its predecessor's hash."""
        return event_hash(
            seq=self.seq,
            created_at=self.created_at.isoformat(),
            actor_id=self.actor_id,
            actor_repr=self.actor_repr,
            action=self.action,
            object_type=self.object_type,
            object_id=self.object_id,
            object_repr=self.object_repr,
            content_hash=self.content_hash,
            changes=self.changes,
            prev_hash=self.prev_hash,
        )


def canonical_json(value: object) -> str:
    """Return ``value`` as the canonical JSON text hashes are computed over (keys sorted, compact, ASCII)."""
    return _CANONICAL.encode(value)


def event_hash(
    *,
    seq: int,
    created_at: str,
    actor_id: int | None,
    actor_repr: str,
    action: str,
    object_type: str,
    object_id: str,
    object_repr: str,
    content_hash: str,
    changes: object,
    prev_hash: str,
    changes_json: str | None = None,
) -> str:
    """Return the SHA-256 of an event's canonical content and its predecessor's hash.

    The one definition of an event's hash: `AuditEvent.compute_hash` (and so ``verify_audit``)
    and the batch writer, which hashes rows it never builds as models, both call it.
    ``created_at`` is the time as ``datetime.isoformat()`` writes it. The hash is over the
    canonical JSON of all the fields as one object; a writer that already holds ``changes``'
    canonical JSON (``changes_json``, to store it as it is) passes it, and it is spliced in.
    """
    before = {"action": action, "actor_id": actor_id, "actor_repr": actor_repr}
    after = {
        "content_hash": content_hash,
        "created_at": created_at,
        "object_id": object_id,
        "object_repr": object_repr,
        "object_type": object_type,
        "prev_hash": prev_hash,
        "seq": seq,
    }
    # The keys sort as: before's, "changes", after's; so the text is the one object's canonical JSON.
    if changes_json is None:
        changes_json = _CANONICAL.encode(changes)
    text = f'{_CANONICAL.encode(before)[:-1]},"changes":{changes_json},{_CANONICAL.encode(after)[1:]}'
    return hashlib.sha256(text.encode()).hexdigest()


class Notification(models.Model):
    """A sent notification, keyed by its event, so no event is ever mailed twice.

    The ledger of ``core.mail.mail_once`` (claimed by ``audit.services.mail_claim``): which event
    was mailed to which addresses, and when. It came from approvals with its table.
    """

    key = models.CharField(_("event"), max_length=MAIL_KEY_MAX_LENGTH, unique=True)
    recipients = models.JSONField(_("recipients"), default=list)
    sent_at = models.DateTimeField(_("sent"), auto_now_add=True)

    class Meta:
        db_table = "approvals_notification"
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-sent_at"]

    def __str__(self) -> str:
        return self.key


class ErasureKey(models.Model):
    """The data key that seals one owner's personal data in audit events (crypto-shredding).

    An owner is a person (``consent.subject``) or an object whose texts may name people (``posts.post``).
    Events hold their personal data only as ciphertext under these keys, so the hashed bytes never
    change: erasing deletes the key material, the chain still verifies, and the data is unreadable.
    The key itself is stored encrypted with the instance key (``core.crypto.fernet``) where one is set.
    """

    owner_type = models.CharField(_("owner type"), max_length=100)
    owner_id = models.CharField(_("owner id"), max_length=64)
    key = models.TextField(_("sealed data key"), blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    erased_at = models.DateTimeField(_("erased at"), null=True, blank=True, editable=False)
    erased_by_repr = models.CharField(_("erased by"), max_length=200, blank=True, editable=False)

    class Meta:
        verbose_name = _("erasure key")
        verbose_name_plural = _("erasure keys")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["owner_type", "owner_id"], name="erasure_key_unique_owner"),
            models.CheckConstraint(
                condition=models.Q(erased_at__isnull=True) | models.Q(key=""),
                name="erasure_key_erased_has_no_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.owner_type} #{self.owner_id}"
