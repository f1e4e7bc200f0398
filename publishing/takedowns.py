"""Takedowns: list what must come down, and delete it through the platforms' APIs, keeping the proof.

A takedown has a cause: the consent a published post relied on ended (`takedowns_list`), or a
review stage after publication rejected it (`takedowns_for_review`). Confirming and deleting work
the same for both.

`takedown_delete` asks the account's connector to delete the post Rounds published there. When
the platform confirms, the item closes with the platform's answer, the time and the person as
proof. Where the platform offers no deletion (Instagram, TikTok), where the post went out
through the outbox folder (a person posted it), where Rounds has no id of the post, or when the
call fails, the item stays open with a note saying what a person must do. Every try is audited.
The call itself runs outside any transaction: no row stays locked while a platform answers.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import event_record
from consent.models import ConsentRecord
from core.locks import row_lock
from people.models import User
from posts.models import Account, Post
from publishing.connectors.base import AccountRef, Connector, ConnectorError, DeletesWithProof, Deletion
from publishing.connectors.outbound import secrets_redact
from publishing.connectors.registry import connector_for
from publishing.models import (
    REVIEW_CAUSES,
    DeletionStatus,
    Publication,
    PublicationStatus,
    TakedownCause,
    TakedownItem,
)
from publishing.policy import CONFIRM_TAKEDOWN, DELETE_ON_PLATFORM, PublishingPolicy

EXCERPT = 500


@dataclass(frozen=True)
class _Plan:
    """What to delete, read under the item's lock: the post's id on the platform and the account."""

    external_id: str
    url: str
    account: AccountRef
    connector: str
    platform_label: str


@dataclass(frozen=True)
class _Outcome:
    status: str
    response: str = ""
    note: str = ""


def _account_ref(account: Account) -> AccountRef:
    return AccountRef(platform=account.platform, handle=account.handle, credentials=dict(account.credentials or {}))


@transaction.atomic
def _plan(item: TakedownItem) -> _Plan | _Outcome:
    """Return what to delete, or the outcome when there is nothing Rounds can delete."""
    item = row_lock(TakedownItem, item.pk)
    if item.confirmed_at is not None:
        raise ValidationError(_("This publication is already confirmed as taken down."), code="closed")
    account = Account.objects.get(pk=item.account_id)
    if account.connector == "outbox":
        return _Outcome(
            DeletionStatus.NOT_ALLOWED,
            note=_(
                "This post went out through the outbox folder, so Rounds cannot reach it on the platform. "
                "Delete it there by hand, then confirm it here."
            ),
        )
    publication = (
        Publication.objects.filter(post_id=item.post_id, account=account, status=PublicationStatus.CONFIRMED)
        .exclude(external_id="")
        .first()
    )
    if publication is None:
        return _Outcome(
            DeletionStatus.NO_RECORD,
            note=_(
                "Rounds has no record of this post on %(account)s. If it is online, delete it by hand, "
                "then confirm it here."
            )
            % {"account": account},
        )
    return _Plan(
        external_id=publication.external_id,
        url=publication.url,
        account=_account_ref(account),
        connector=account.connector,
        platform_label=account.get_platform_display(),
    )


def _delete(connector: Connector, plan: _Plan) -> Deletion:
    if isinstance(connector, DeletesWithProof):
        return connector.delete_with_proof(account=plan.account, external_id=plan.external_id)
    return Deletion(deleted=connector.delete(account=plan.account, external_id=plan.external_id))


def _call(plan: _Plan) -> _Outcome:
    """Ask the platform to delete the post; return what came of it (never raises a connector's error)."""

    def kept(text: str) -> str:
        # The answer is kept as proof of the takedown, without any credential it echoed.
        return secrets_redact(text, credentials=plan.account.credentials)

    try:
        connector = connector_for(connector=plan.connector, platform=plan.account.platform)
        deletion = _delete(connector, plan)
    except ConnectorError as error:
        return _Outcome(
            DeletionStatus.FAILED,
            response=kept(error.response_excerpt),
            note=_("The platform did not delete it: %(error)s Try again later, or delete it by hand and confirm.")
            % {"error": kept(error.message)},
        )
    if deletion.deleted:
        return _Outcome(DeletionStatus.DELETED, response=kept(deletion.response_excerpt))
    return _Outcome(
        DeletionStatus.NOT_ALLOWED,
        response=kept(deletion.response_excerpt),
        note=_("%(platform)s does not let Rounds delete posts. Delete it in the app, then confirm it here.")
        % {"platform": plan.platform_label},
    )


AUDIT_ACTIONS = {
    DeletionStatus.DELETED: "takedown.deleted",
    DeletionStatus.NOT_ALLOWED: "takedown.delete_refused",
    DeletionStatus.NO_RECORD: "takedown.delete_refused",
    DeletionStatus.FAILED: "takedown.delete_failed",
}


@transaction.atomic
def _record(*, item: TakedownItem, actor: User, outcome: _Outcome, plan: _Plan | None) -> TakedownItem:
    item = row_lock(TakedownItem, item.pk)
    now = timezone.now()
    fields = {
        "deletion_status": outcome.status,
        "deletion_at": now,
        "deletion_by": actor,
        "deletion_response": outcome.response[:EXCERPT],
        "deletion_note": outcome.note,
    }
    if plan is not None and plan.url and not item.url and len(plan.url) <= 200:
        fields["url"] = plan.url  # where it was, kept with the proof
    if outcome.status == DeletionStatus.DELETED and item.confirmed_at is None:
        fields.update(confirmed_at=now, confirmed_by=actor)
    for name, value in fields.items():
        setattr(item, name, value)
    item.save(update_fields=list(fields))
    event_record(
        actor=actor,
        action=AUDIT_ACTIONS[DeletionStatus(outcome.status)],
        obj=item,
        changes={
            "post": item.post_id,
            "account": item.account_id,
            "external_id": plan.external_id if plan else "",
            "status": outcome.status,
            "response": outcome.response[:200],
            "note": outcome.note,
        },
    )
    return item


def takedown_delete(*, item: TakedownItem, actor: User) -> TakedownItem:
    """Delete a takedown's post on its platform through the account's connector; returns the item.

    Deleted: the item closes, confirmed by ``actor``, with the platform's answer as proof.
    Otherwise it stays open with a note. Raises PermissionDenied, or ValidationError when the
    item is closed already.
    """
    if DELETE_ON_PLATFORM not in PublishingPolicy(actor).actions(item):
        raise PermissionDenied(_("You may not act on takedowns for this campaign."))
    plan = _plan(item)
    outcome = _call(plan) if isinstance(plan, _Plan) else plan
    return _record(item=item, actor=actor, outcome=outcome, plan=plan if isinstance(plan, _Plan) else None)


def takedowns_list(*, post: Post, record: ConsentRecord, actor: User | None, reason: str) -> list[int]:
    """List a takedown for every target of a post already out whose consent ended; returns the new items' ids.

    Runs inside the consent's transaction (``posts.services.consent_cascade``), with the post locked.
    """
    created_ids: list[int] = []
    for target in post.targets.select_related("account"):
        item, created = TakedownItem.objects.get_or_create(
            post=post,
            account=target.account,
            consent=record,
            defaults={"cause": TakedownCause.CONSENT_ENDED, "reason": reason},
        )
        if created:
            created_ids.append(item.pk)
            event_record(
                actor=actor,
                action="takedown.created",
                obj=item,
                content_hash=post.content_hash,
                changes={"post": post.pk, "account": target.account_id, "reason": reason},
            )
    return created_ids


def takedowns_for_review(
    *,
    post: Post,
    stage: str,
    comment: str,
    actor: User | None,
    reason: str,
    cause: str = TakedownCause.REVIEW_REJECTED,
) -> list[int]:
    """List a takedown for every live target of a post a review stage rejected after publication; returns new ids.

    ``cause`` is ``recertification_withdrawn`` when a reviewer withdrew the post at re-certification.

    Live means a confirmed publication. Runs in the decision's transaction with the post locked
    (``posts.services.post_retract``), or when a call that was in flight then comes back confirmed.
    A target with an open review takedown gets no second one.
    """
    live = Publication.objects.filter(post=post, status=PublicationStatus.CONFIRMED).values_list("account_id")
    created_ids: list[int] = []
    for account in Account.objects.filter(pk__in=live).order_by("pk"):
        item, created = TakedownItem.objects.get_or_create(
            post=post,
            account=account,
            cause__in=REVIEW_CAUSES,
            confirmed_at__isnull=True,
            defaults={"reason": reason[:200], "comment": comment, "cause": cause},
        )
        if created:
            created_ids.append(item.pk)
            event_record(
                actor=actor,
                action="takedown.created",
                obj=item,
                content_hash=post.content_hash,
                changes={
                    "post": post.pk,
                    "account": account.pk,
                    "cause": item.cause,
                    "stage": stage,
                    "reason": reason,
                },
            )
    return created_ids


@transaction.atomic
def takedown_confirm(*, item: TakedownItem, actor: User) -> TakedownItem:
    """Record that someone took the publication down; returns the item."""
    if CONFIRM_TAKEDOWN not in PublishingPolicy(actor).actions(item):
        raise PermissionDenied(_("You may not confirm takedowns for this campaign."))
    item = row_lock(TakedownItem, item.pk)
    if item.confirmed_at is not None:
        raise ValidationError(_("This publication is already confirmed as taken down."))
    item.confirmed_at = timezone.now()
    item.confirmed_by = actor
    item.save(update_fields=["confirmed_at", "confirmed_by"])
    event_record(actor=actor, action="takedown.confirmed", obj=item, changes={"post": item.post_id})
    return item
