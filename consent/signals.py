from django.dispatch import Signal

# Sent inside the revoking transaction with ``record`` and ``actor``: receivers (posts) block
# everything not yet published in that same transaction, so a revocation is never half-applied.
consent_revoked = Signal()

# Sent inside a transaction when a consent's expiry date has passed, with ``record``.
consent_lapsed = Signal()

# Sent inside the erasing transaction (consent.services.subject_erase) with ``subject``, ``names``
# (the texts to redact: name, reference, signers' names) and ``actor``, after every consent was
# revoked. Receivers (posts) redact the names from what they store and return the erasure-key
# owners (audit.erasure.KeyOwner) whose keys must be erased with the person's.
subject_erasing = Signal()
