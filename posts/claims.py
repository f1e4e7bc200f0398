"""Claims and their sources: marking a passage of a post's text as a claim and linking what supports it.

A claim is reviewed content (snapshot format 3, `posts.content`): marking, changing or removing
one makes a new revision, so review starts again and the medical stage's "source checked" marks
(approvals) no longer count. The post's free-text ``sources`` field stays for general citations
(further reading, guidelines); it no longer silences the claim detector, because it cannot say
which sentence rests on which source (docs/claims.md). The rules on plain values are in
`posts.claim_rules`.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.services import event_record
from core.inputs import text_storable
from people.models import User
from posts.claim_rules import detected_claims, source_clean, source_kind_guess
from posts.content import claim_snapshot
from posts.locks import post_lock
from posts.models import CLAIM_PASSAGE_MAX, Claim, Post, SourceKind
from posts.policy import EDIT, PostPolicy
from posts.services import _revision_refresh

# Services -----------------------------------------------------------------------------------


def _editable(*, post: Post, actor: User) -> Post:
    post = post_lock(post.pk)
    if EDIT not in PostPolicy(actor).actions(post):
        raise PermissionDenied(_("You may not change this post's claims in its current state."))
    return post


def _source_fields(*, source_kind: str, source: str, quote: str) -> tuple[str, str, str]:
    """Return (kind, source, quote) cleaned; a claim without a source has all three empty."""
    quote = quote.strip()
    text_storable(quote)
    if not source_kind and not source.strip() and not quote:
        return "", "", ""
    # "No source yet" left chosen while a source was typed: the source says what it is.
    source_kind = source_kind or source_kind_guess(source)
    value = source_clean(kind=source_kind, value=source)
    if not quote:
        raise ValidationError(
            {"quote": _("Copy the sentence of the source that supports the claim.")}, code="quote_required"
        )
    return source_kind, value, quote


def _claim_changes(claim: Claim) -> dict[str, str]:
    return {"claim": str(claim.pk), **claim_snapshot(claim)}


@transaction.atomic
def claim_add(
    *, post: Post, actor: User, passage: str, source_kind: str = "", source: str = "", quote: str = ""
) -> Claim:
    """Mark ``passage`` of the post's text as a claim, with its source if given; returns it.

    Makes a new revision (review starts again). Refuses a passage that is not in the saved text.
    """
    post = _editable(post=post, actor=actor)
    passage = passage.strip()
    text_storable(passage)
    if not passage:
        raise ValidationError({"passage": _("Select or type the words of the text that make the claim.")})
    if len(passage) > CLAIM_PASSAGE_MAX:
        raise ValidationError({"passage": _("A claim is a sentence or two, not the whole text.")})
    if passage not in post.body:
        raise ValidationError(
            {"passage": _("These words are not in the saved text. Save the draft first, then mark the claim.")},
            code="passage_not_in_text",
        )
    if post.claims.filter(passage=passage).exists():
        raise ValidationError({"passage": _("This passage is already marked as a claim.")}, code="duplicate")
    kind, value, quote = _source_fields(source_kind=source_kind, source=source, quote=quote)
    claim = Claim(post=post, passage=passage, source_kind=kind, source=value, quote=quote)
    claim.full_clean()
    claim.save()
    event_record(actor=actor, action="post.claim_added", obj=post, changes=_claim_changes(claim))
    # A revision in format 1 or 2 holds no claims: the claim is a change it cannot see.
    _revision_refresh(post=post, actor=actor, unseen_change=True)
    return claim


@transaction.atomic
def claim_source_set(*, claim: Claim, actor: User, source_kind: str, source: str, quote: str) -> Claim:
    """Link (or change) the source of a claim and its quoted sentence; returns the claim."""
    post = _editable(post=claim.post, actor=actor)
    claim = Claim.objects.select_for_update().get(pk=claim.pk, post=post)
    kind, value, quote = _source_fields(source_kind=source_kind, source=source, quote=quote)
    if not kind:
        raise ValidationError({"source": _("Give the source: a web address, a DOI or a PubMed id.")}, code="required")
    before = claim_snapshot(claim)
    claim.source_kind, claim.source, claim.quote = kind, value, quote
    if claim_snapshot(claim) == before:
        return claim
    claim.full_clean()
    claim.save(update_fields=["source_kind", "source", "quote"])
    event_record(
        actor=actor,
        action="post.claim_source_set",
        obj=post,
        changes={"claim": str(claim.pk), "before": before, "after": claim_snapshot(claim)},
    )
    _revision_refresh(post=post, actor=actor, unseen_change=True)
    return claim


@transaction.atomic
def claim_remove(*, claim: Claim, actor: User) -> None:
    """Unmark a claim (its passage stays in the text); makes a new revision."""
    post = _editable(post=claim.post, actor=actor)
    claim = Claim.objects.select_for_update().get(pk=claim.pk, post=post)
    changes = _claim_changes(claim)
    claim.delete()
    event_record(actor=actor, action="post.claim_removed", obj=post, changes=changes)
    _revision_refresh(post=post, actor=actor, unseen_change=True)


@dataclass(frozen=True)
class ClaimsEditor:
    """The editor's claims block: the post's claims, detected sentences to mark, the kinds of source."""

    claims: list[Claim]
    suggestions: list[str]
    kinds: list[tuple[str, str]]


def claims_for_editor(*, post: Post) -> ClaimsEditor:
    """Return the claims block of the editor for a saved post (two queries)."""
    claims = list(post.claims.all())
    suggestions = detected_claims(post.body, [claim.passage for claim in claims])
    return ClaimsEditor(claims=claims, suggestions=suggestions, kinds=[(k.value, str(k.label)) for k in SourceKind])
