"""What Facebook Pages and Instagram share: Meta's Graph API, its error codes and its rate-limit headers.

The Graph API answers most errors with HTTP 400 and a JSON ``error`` object (``message``,
``code``, ``error_subcode``, ``is_transient``). Throttling is a code, not a status: 4 (app), 17
(user), 32 (page), 613, 80001 (Pages business use case), 341; 1 and 2 are temporary outages.
How long to wait comes from ``X-Business-Use-Case-Usage``: per business, a list of usages with
``estimated_time_to_regain_access`` in minutes.
"""

import json
from typing import Any, ClassVar

from publishing.connectors.api import ApiConnector
from publishing.connectors.base import ConnectorError, PermanentError, TransientError
from publishing.connectors.http import Answer, error_for, is_transient
from publishing.connectors.messages import HTTP_STATUS

GRAPH = "https://graph.facebook.com/v24.0"
TRANSIENT_CODES = frozenset({1, 2, 4, 17, 32, 341, 613, 80001})


def regain_seconds(answer: Answer) -> float | None:
    """Return the longest ``estimated_time_to_regain_access`` of the usage header, in seconds."""
    raw = answer.header("X-Business-Use-Case-Usage")
    try:
        usage = json.loads(raw) if raw else {}
    except ValueError:
        return None
    minutes = [
        float(entry.get("estimated_time_to_regain_access") or 0)
        for entries in (usage.values() if isinstance(usage, dict) else [])
        for entry in (entries if isinstance(entries, list) else [])
        if isinstance(entry, dict)
    ]
    return max(minutes) * 60 if minutes and max(minutes) > 0 else None


class GraphConnector(ApiConnector):
    """A client of Meta's Graph API."""

    default_base: ClassVar[str] = GRAPH

    @staticmethod
    def graph_error(answer: Answer) -> dict[str, Any]:
        error = answer.json().get("error")
        return error if isinstance(error, dict) else {}

    def message_of(self, answer: Answer) -> str:
        error = self.graph_error(answer)
        message = str(error.get("error_user_msg") or error.get("message") or answer.excerpt[:200])
        code = error.get("code")
        return f"{message} (code {code})" if code is not None else message

    def classify(self, answer: Answer) -> ConnectorError:
        error = self.graph_error(answer)
        message = self.message_of(answer)
        wait = regain_seconds(answer)
        if error.get("code") in TRANSIENT_CODES or error.get("is_transient") is True:
            return TransientError(
                HTTP_STATUS.english(status=answer.status, message=message),
                retry_after=wait,
                response_excerpt=answer.excerpt,
            )
        if is_transient(answer.status):
            return error_for(answer, message=message, retry_after=wait)
        return PermanentError(
            HTTP_STATUS.english(status=answer.status, message=message), response_excerpt=answer.excerpt
        )

    @staticmethod
    def gone(answer: Answer) -> bool:
        """Return whether an error answer says the object does not exist (code 100, subcode 33)."""
        error = GraphConnector.graph_error(answer)
        return answer.status == 404 or (error.get("code") == 100 and error.get("error_subcode") == 33)
