"""Audit what people do to their own second factors on allauth's two-factor pages."""

from typing import Any

from audit.services import event_record


def _record(action: str) -> Any:
    def receiver(*, user: Any, authenticator: Any, **kwargs: Any) -> None:
        event_record(actor=user, action=action, obj=user, changes={"types": [authenticator.type]})

    return receiver


two_factor_added = _record("user.two_factor_added")
two_factor_removed = _record("user.two_factor_removed")
two_factor_reset = _record("user.two_factor_reset")
