"""Connectors against the real world they talk to: a local HTTP server with faults, a real folder."""

import email.utils
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from publishing.connectors.base import AccountRef, MediaRef, Payload, PermanentError, TransientError, UnknownOutcome
from publishing.connectors.outbox import OutboxConnector
from publishing.connectors.registry import ConnectorMissing, connector_for
from publishing.connectors.webhook import WebhookConnector, retry_after_seconds, signature
from tests.posts.fakeplatform import FakePlatform

PAYLOAD = Payload(
    text="Flu shots this week.\n\nhttps://example.org/flu\n\n#Flu",
    link="https://example.org/flu",
    title="Flu week",
    hashtags=("Flu",),
    media=(MediaRef(path="/tmp/x.jpg", alt_text="A nurse with a syringe"),),
    language="en",
)


@pytest.fixture
def fake() -> Iterator[FakePlatform]:
    with FakePlatform(hang_seconds=1.5, slow_seconds=0.2) as server:
        yield server


@pytest.fixture
def account(fake: FakePlatform) -> AccountRef:
    return AccountRef(platform="webhook", handle="hook", credentials=fake.credentials())


@pytest.fixture
def webhook() -> WebhookConnector:
    return WebhookConnector(timeout=0.5)


def test_webhook_posts_signed_json_with_the_idempotency_key(
    fake: FakePlatform, account: AccountRef, webhook: WebhookConnector
) -> None:
    result = webhook.publish(account=account, payload=PAYLOAD, key="rounds-abc-123")

    assert len(fake.received) == 1
    received = fake.received[0]
    assert received.signature_ok
    assert received.key == "rounds-abc-123"
    assert received.headers["X-Rounds-Signature"] == signature(fake.secret, received.body)
    assert received.json["text"] == PAYLOAD.text
    assert received.json["media"] == [{"path": "/tmp/x.jpg", "alt_text": "A nurse with a syringe", "kind": "photo"}]
    assert received.json["key"] == "rounds-abc-123"
    assert result.external_id == "fake-1"
    assert result.url == "https://fake.example/posts/1"
    assert "fake-1" in result.response_excerpt


def test_a_wrong_secret_is_refused_by_the_receiver_as_permanent(fake: FakePlatform, webhook: WebhookConnector) -> None:
    account = AccountRef(platform="webhook", handle="hook", credentials={"url": fake.url, "secret": "wrong"})
    with pytest.raises(PermanentError, match="401"):
        webhook.publish(account=account, payload=PAYLOAD, key="k1")
    assert fake.received[0].signature_ok is False
    assert fake.created == {}


def test_500_is_transient(fake: FakePlatform, account: AccountRef, webhook: WebhookConnector) -> None:
    fake.fail_next("500")
    with pytest.raises(TransientError) as caught:
        webhook.publish(account=account, payload=PAYLOAD, key="k1")
    assert caught.value.retry_after is None
    assert "upstream exploded" in caught.value.response_excerpt


def test_429_carries_retry_after(fake: FakePlatform, account: AccountRef, webhook: WebhookConnector) -> None:
    fake.retry_after = 42
    fake.fail_next("429")
    with pytest.raises(TransientError) as caught:
        webhook.publish(account=account, payload=PAYLOAD, key="k1")
    assert caught.value.retry_after == 42


def test_429_with_rate_limit_reset_waits_until_the_reset(
    fake: FakePlatform, account: AccountRef, webhook: WebhookConnector
) -> None:
    fake.reset_in = 90
    fake.fail_next("429-reset")
    with pytest.raises(TransientError) as caught:
        webhook.publish(account=account, payload=PAYLOAD, key="k1")
    assert caught.value.retry_after is not None
    assert 85 <= caught.value.retry_after <= 91


def test_other_4xx_is_permanent_with_the_platforms_message(
    fake: FakePlatform, account: AccountRef, webhook: WebhookConnector
) -> None:
    fake.fail_next("422")
    with pytest.raises(PermanentError, match="longer than 280"):
        webhook.publish(account=account, payload=PAYLOAD, key="k1")


def test_timeout_after_sending_is_an_unknown_outcome_and_lookup_finds_it(
    fake: FakePlatform, account: AccountRef, webhook: WebhookConnector
) -> None:
    fake.fail_next("timeout")
    started = time.monotonic()
    with pytest.raises(UnknownOutcome):
        webhook.publish(account=account, payload=PAYLOAD, key="k-timeout")
    assert time.monotonic() - started < 1.4
    found = webhook.lookup(account=account, key="k-timeout")
    assert found is not None and found.external_id == "fake-1"
    assert fake.keys() == ["k-timeout"]


def test_dropped_connection_is_an_unknown_outcome(
    fake: FakePlatform, account: AccountRef, webhook: WebhookConnector
) -> None:
    fake.fail_next("drop")
    with pytest.raises(UnknownOutcome):
        webhook.publish(account=account, payload=PAYLOAD, key="k-drop")
    assert webhook.lookup(account=account, key="k-drop") is not None


def test_a_late_answer_within_the_timeout_is_success(
    fake: FakePlatform, account: AccountRef, webhook: WebhookConnector
) -> None:
    fake.fail_next("slow")
    assert webhook.publish(account=account, payload=PAYLOAD, key="k-slow").external_id == "fake-1"


def test_no_connection_is_transient_because_nothing_was_sent(webhook: WebhookConnector) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    account = AccountRef(
        platform="webhook", handle="h", credentials={"url": f"http://127.0.0.1:{port}/", "secret": "s"}
    )
    with pytest.raises(TransientError, match="could not send"):
        webhook.publish(account=account, payload=PAYLOAD, key="k1")


def test_lookup_of_an_unknown_key_is_none(fake: FakePlatform, account: AccountRef, webhook: WebhookConnector) -> None:
    assert webhook.lookup(account=account, key="never-sent") is None
    assert fake.lookups == ["never-sent"]


def test_delete_removes_the_post(fake: FakePlatform, account: AccountRef, webhook: WebhookConnector) -> None:
    result = webhook.publish(account=account, payload=PAYLOAD, key="k1")
    assert webhook.delete(account=account, external_id=result.external_id) is True
    assert webhook.lookup(account=account, key="k1") is None


def test_missing_credentials_are_permanent(webhook: WebhookConnector) -> None:
    with pytest.raises(PermanentError, match="credentials"):
        webhook.publish(account=AccountRef(platform="webhook", handle="h"), payload=PAYLOAD, key="k")


def test_retry_after_understands_seconds_dates_and_resets() -> None:
    now = 1_700_000_000.0
    assert retry_after_seconds({"Retry-After": "30"}, now=now) == 30
    date = email.utils.formatdate(now + 60, usegmt=True)
    assert retry_after_seconds({"Retry-After": date}, now=now) == pytest.approx(60, abs=1)
    assert retry_after_seconds({"x-rate-limit-reset": str(int(now + 15))}, now=now) == 15
    assert retry_after_seconds({}, now=now) is None
    assert retry_after_seconds({"Retry-After": "soon"}, now=now) is None


# Outbox ---------------------------------------------------------------------------------------


def test_outbox_writes_one_complete_file_per_key_and_finds_it(tmp_path: Path) -> None:
    outbox = OutboxConnector(tmp_path / "outbox")
    account = AccountRef(platform="facebook", handle="klinikum")

    assert outbox.lookup(account=account, key="rounds-k1") is None
    result = outbox.publish(account=account, payload=PAYLOAD, key="rounds-k1")
    again = outbox.publish(account=account, payload=Payload(text="other"), key="rounds-k1")

    files = sorted(path.name for path in (tmp_path / "outbox").iterdir())
    assert files == ["rounds-k1.json"]  # no temporary file left behind, nothing overwritten
    document = json.loads((tmp_path / "outbox" / "rounds-k1.json").read_text())
    assert document["text"] == PAYLOAD.text
    assert document["handle"] == "klinikum"
    assert result.external_id == again.external_id == "rounds-k1.json"
    assert outbox.lookup(account=account, key="rounds-k1") == result
    assert outbox.delete(account=account, external_id=result.external_id) is True
    assert outbox.lookup(account=account, key="rounds-k1") is None


def test_outbox_refuses_a_key_that_would_leave_the_folder(tmp_path: Path) -> None:
    with pytest.raises(PermanentError):
        OutboxConnector(tmp_path).publish(account=AccountRef(platform="x", handle="h"), payload=PAYLOAD, key="../evil")


def test_registry_picks_by_connector_and_says_when_a_platform_has_none(settings: object, tmp_path: Path) -> None:
    assert isinstance(connector_for(connector="outbox", platform="facebook"), OutboxConnector)
    assert isinstance(connector_for(connector="webhook", platform="webhook"), WebhookConnector)
    with pytest.raises(ConnectorMissing, match="outbox"):
        connector_for(connector="platform", platform="outbox")
