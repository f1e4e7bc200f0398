import json
from typing import Any

from cryptography.fernet import InvalidToken
from django.core.exceptions import ImproperlyConfigured
from django.db import models

from core.crypto import fernet as _fernet


class EncryptedJSONField(models.TextField[dict[str, Any], dict[str, Any]]):
    """A JSON object stored encrypted with Fernet; the database never sees plaintext."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> dict[str, Any]:
        if not value:
            return {}
        try:
            stored: dict[str, Any] = json.loads(_fernet().decrypt(value.encode()))  # written by get_prep_value
            return stored
        except InvalidToken as exc:
            raise ImproperlyConfigured("Stored credentials cannot be decrypted with ROUNDS_CREDENTIALS_KEYS.") from exc

    def to_python(self, value: Any) -> dict[str, Any]:
        if isinstance(value, dict):
            return value
        if not value:
            return {}
        loaded: dict[str, Any] = json.loads(value)
        return loaded

    def get_prep_value(self, value: Any) -> str:
        if not value:
            return ""
        return _fernet().encrypt(json.dumps(value, sort_keys=True).encode()).decode()

    def value_to_string(self, obj: models.Model) -> str:
        return ""  # Never dump credentials into fixtures or exports.
