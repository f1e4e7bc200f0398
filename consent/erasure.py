"""Whose erasure key seals the audit events of the registry's objects (audit.erasure)."""

from django.db import models

from audit.erasure import KeyOwner
from audit.models import object_type_of
from consent.models import ConsentRecord, ConsentSigner, Subject

SUBJECT_TYPE = object_type_of(Subject)


def subject_owner(subject_id: object) -> KeyOwner:
    """Return the key owner of one person."""
    return (SUBJECT_TYPE, str(subject_id))


def consent_key_owners(obj: models.Model) -> list[KeyOwner]:
    """Return the person whose key seals ``obj``'s events: a subject, their consents and signers."""
    if isinstance(obj, Subject):
        return [subject_owner(obj.pk)]
    if isinstance(obj, ConsentRecord):
        return [subject_owner(obj.subject_id)]
    if isinstance(obj, ConsentSigner):
        return [subject_owner(obj.record.subject_id)]
    return []
