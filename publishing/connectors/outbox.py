"""The embedded default: one JSON file per publication in a folder, written atomically."""

import datetime as dt
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from publishing.connectors.base import AccountRef, Payload, PermanentError, Result, TransientError
from publishing.connectors.messages import OUTBOX_UNWRITABLE

_SAFE_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,200}$")


class OutboxConnector:
    """Write ``<key>.json`` into ``directory``; a file that exists is a publication that happened."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)

    def _path(self, key: str) -> Path:
        # Keys are ours, but a file name must never climb out of the folder.
        if not _SAFE_KEY.match(key):
            raise PermanentError(f"unusable key for a file name: {key!r}")
        return self.directory / f"{key}.json"

    def _result(self, path: Path) -> Result:
        return Result(external_id=path.name, url="", response_excerpt=str(path)[:500])

    def publish(self, *, account: AccountRef, payload: Payload, key: str) -> Result:
        path = self._path(key)
        if path.exists():
            return self._result(path)
        document: dict[str, Any] = {
            "key": key,
            "platform": account.platform,
            "handle": account.handle,
            "written_at": dt.datetime.now(dt.UTC).isoformat(),
            **payload.as_json(),
        }
        data = json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".json")
            try:
                with os.fdopen(handle, "wb") as stream:
                    stream.write(data)
                    stream.flush()
                    os.fsync(stream.fileno())
                # A reader sees the whole file or none: the rename is atomic on one file system.
                os.replace(temporary, path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as error:
            raise TransientError(OUTBOX_UNWRITABLE.english(error=error)) from error
        return self._result(path)

    def lookup(self, *, account: AccountRef, key: str) -> Result | None:
        path = self._path(key)
        return self._result(path) if path.exists() else None

    def delete(self, *, account: AccountRef, external_id: str) -> bool:
        path = self.directory / Path(external_id).name
        if not path.exists():
            return False
        path.unlink()
        return True
