from django.dispatch import Signal

# Sent inside the revoking transaction with ``record`` and ``actor``: receivers (posts) block
# everything not yet published in that same transaction, so a revocation is never half-applied.
consent_revoked = Signal()

# Sent inside a transaction when a consent's expiry date has passed, with ``record``.
consent_lapsed = Signal()
