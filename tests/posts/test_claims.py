"""Claims and their sources in the editor (issue 14, point 3): validation, revisions, snapshot format 3, findings."""

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from audit.models import AuditEvent
from posts.claim_rules import source_clean, text_segments
from posts.claims import claim_add, claim_remove, claim_source_set, claims_for_editor
from posts.content import SNAPSHOT_VERSION, content_hash, content_snapshot
from posts.models import Claim, Post, Revision, SourceKind
from posts.services import post_content_findings, post_update

pytestmark = pytest.mark.django_db

BODY = (
    "Herzwoche im Klinikum Nord 💙\n"
    "Wer täglich 30 Minuten zügig geht, senkt sein Schlaganfall-Risiko um etwa 20 %. "
    "Kommen Sie am 14.11. zum Infotag – Dr. Özdemir beantwortet Ihre Fragen!"
)
CLAIM = "Wer täglich 30 Minuten zügig geht, senkt sein Schlaganfall-Risiko um etwa 20 %."
DOI = "10.1161/STROKEAHA.120.031234"
QUOTE = "Brisk walking of 30 min/day was associated with a 20% lower risk of stroke."


@pytest.fixture
def post(editor: Any, campaign: Any, account_factory: Any, post_factory: Any) -> Post:
    return post_factory(editor, campaign, body=BODY, targets=[account_factory("facebook")])


def state(post: Post) -> tuple[Any, ...]:
    """What a refused call must leave as it was: claims, revisions and the audit trail."""
    return (
        list(Claim.objects.filter(post=post).values_list("passage", "source_kind", "source", "quote")),
        Revision.objects.filter(post=post).count(),
        AuditEvent.objects.count(),
    )


# Sources ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "typed", "stored"),
    [
        (SourceKind.URL, "https://www.who.int/news-room/fact-sheets/detail/physical-activity", None),
        (SourceKind.URL, "http://example.org/studie?id=1#ergebnis", None),
        (SourceKind.DOI, DOI, DOI),
        (SourceKind.DOI, f"doi:{DOI}", DOI),
        (SourceKind.DOI, f"https://doi.org/{DOI}", DOI),
        (SourceKind.DOI, "10.1002/(SICI)1097-4636(199711)37:2<282::AID-JBM17>3.0.CO;2-M", None),
        (SourceKind.PMID, "31378231", "31378231"),
        (SourceKind.PMID, "PMID: 31378231", "31378231"),
    ],
)
def test_valid_sources_are_stored_in_their_plain_form(kind: str, typed: str, stored: str | None) -> None:
    assert source_clean(kind=kind, value=f"  {typed} ") == (stored or typed)


@pytest.mark.parametrize(
    ("kind", "typed", "message"),
    [
        (SourceKind.URL, "www.who.int/fact-sheet", "Enter a web address starting with http:// or https://."),
        (SourceKind.URL, "ftp://example.org/paper.pdf", "Enter a web address starting with http:// or https://."),
        (SourceKind.URL, "javascript:alert(1)", "Enter a web address starting with http:// or https://."),
        (SourceKind.URL, "http://127.0.0.1/study", "Link a public source"),
        (SourceKind.URL, "http://10.2.3.4/intranet/leitlinie.pdf", "Link a public source"),
        (SourceKind.URL, "http://localhost:8000/x", "Link a public source"),
        (SourceKind.DOI, "10.11/abc", "A DOI starts with 10."),
        (SourceKind.DOI, "11.1161/STROKEAHA", "A DOI starts with 10."),
        (SourceKind.DOI, "10.1161/ with space", "A DOI starts with 10."),
        (SourceKind.PMID, "PMC6543210", "A PubMed id is a number"),
        (SourceKind.PMID, "0123", "A PubMed id is a number"),
        (SourceKind.PMID, "1234567890", "A PubMed id is a number"),
        (SourceKind.URL, "", "Give the source"),
        ("isbn", "978-3-16-148410-0", "Choose a web address, a DOI or a PubMed id."),
    ],
)
def test_bad_source_is_refused_with_a_clear_error_and_nothing_changes(
    kind: str, typed: str, message: str, post: Post, editor: Any
) -> None:
    before = state(post)
    with pytest.raises(ValidationError) as refused:
        claim_add(post=post, actor=editor, passage=CLAIM, source_kind=kind, source=typed, quote=QUOTE)
    assert any(text.startswith(message) for text in refused.value.messages), refused.value.messages
    assert state(post) == before


@pytest.mark.parametrize(
    ("typed", "kind", "stored"),
    [
        (f"https://doi.org/{DOI}", "doi", DOI),
        ("PMID: 31378231", "pmid", "31378231"),
        ("https://www.herzstiftung.de/infos-zu-herzerkrankungen", "url", None),
    ],
)
def test_a_source_typed_without_its_kind_is_recognised(
    typed: str, kind: str, stored: str | None, post: Post, editor: Any
) -> None:
    claim = claim_add(post=post, actor=editor, passage=CLAIM, source_kind="", source=typed, quote=QUOTE)
    assert (claim.source_kind, claim.source) == (kind, stored or typed)


def test_a_source_typed_without_its_kind_that_is_none_is_refused(post: Post, editor: Any) -> None:
    before = state(post)
    with pytest.raises(ValidationError) as refused:
        claim_add(post=post, actor=editor, passage=CLAIM, source_kind="", source="Herzbericht 2024", quote=QUOTE)
    assert refused.value.message_dict == {"source_kind": ["Choose a web address, a DOI or a PubMed id."]}
    assert state(post) == before


def test_a_source_needs_its_quoted_sentence(post: Post, editor: Any) -> None:
    before = state(post)
    with pytest.raises(ValidationError) as refused:
        claim_add(post=post, actor=editor, passage=CLAIM, source_kind=SourceKind.DOI, source=DOI, quote="  ")
    assert refused.value.message_dict == {"quote": ["Copy the sentence of the source that supports the claim."]}
    assert state(post) == before


def test_a_passage_must_be_in_the_saved_text(post: Post, editor: Any) -> None:
    before = state(post)
    with pytest.raises(ValidationError) as refused:
        claim_add(post=post, actor=editor, passage="Rauchen verursacht Krebs.")
    assert "not in the saved text" in refused.value.message_dict["passage"][0]
    with pytest.raises(ValidationError):
        claim_add(post=post, actor=editor, passage="   ")
    assert state(post) == before


def test_doi_and_pmid_link_to_their_resolvers(post: Post, editor: Any) -> None:
    claim = claim_add(post=post, actor=editor, passage=CLAIM, source_kind="doi", source=DOI, quote=QUOTE)
    assert claim.source_url == f"https://doi.org/{DOI}"
    claim = claim_source_set(claim=claim, actor=editor, source_kind="pmid", source="31378231", quote=QUOTE)
    assert claim.source_url == "https://pubmed.ncbi.nlm.nih.gov/31378231/"
    odd = Claim(source_kind="doi", source="10.1000/a#b?c")
    assert odd.source_url == "https://doi.org/10.1000/a%23b%3Fc"


# Revisions and the snapshot -----------------------------------------------------------------


def test_marking_a_claim_makes_a_revision_in_format_3_holding_it(post: Post, editor: Any) -> None:
    first = post.current_revision
    assert first is not None
    claim_add(post=post, actor=editor, passage=CLAIM, source_kind="doi", source=DOI, quote=QUOTE)
    post.refresh_from_db()
    revision = post.current_revision
    assert revision is not None and revision.number == first.number + 1
    assert revision.content["v"] == SNAPSHOT_VERSION == 3
    assert revision.content["claims"] == [{"passage": CLAIM, "kind": "doi", "source": DOI, "quote": QUOTE}]
    assert revision.content_hash == content_hash(content_snapshot(post))
    events = AuditEvent.objects.filter(object_type="posts.post", object_id=str(post.pk)).order_by("seq")
    actions = list(events.values_list("action", flat=True))
    assert actions[-2:] == ["post.claim_added", "post.revision_created"]


@pytest.mark.parametrize("change", ["source", "quote", "remove"])
def test_any_change_of_a_claim_or_its_source_makes_a_new_revision(change: str, post: Post, editor: Any) -> None:
    claim = claim_add(post=post, actor=editor, passage=CLAIM, source_kind="doi", source=DOI, quote=QUOTE)
    post.refresh_from_db()
    hash_before = post.content_hash
    if change == "source":
        claim_source_set(claim=claim, actor=editor, source_kind="pmid", source="31378231", quote=QUOTE)
    elif change == "quote":
        claim_source_set(claim=claim, actor=editor, source_kind="doi", source=DOI, quote=QUOTE + " (95% CI)")
    else:
        claim_remove(claim=claim, actor=editor)
    post.refresh_from_db()
    assert post.content_hash != hash_before


def test_the_same_source_again_changes_nothing(post: Post, editor: Any) -> None:
    claim = claim_add(post=post, actor=editor, passage=CLAIM, source_kind="doi", source=DOI, quote=QUOTE)
    before = state(post)
    claim_source_set(claim=claim, actor=editor, source_kind="doi", source=f"doi:{DOI}", quote=f" {QUOTE} ")
    assert state(post) == before


def test_the_hash_does_not_depend_on_the_order_claims_were_marked(
    editor: Any, campaign: Any, account_factory: Any, post_factory: Any
) -> None:
    account = account_factory("facebook")
    second = "Dr. Özdemir beantwortet Ihre Fragen!"
    one = post_factory(editor, campaign, body=BODY, targets=[account])
    two = post_factory(editor, campaign, body=BODY, targets=[account])
    claim_add(post=one, actor=editor, passage=CLAIM, source_kind="doi", source=DOI, quote=QUOTE)
    claim_add(post=one, actor=editor, passage=second)
    claim_add(post=two, actor=editor, passage=second)
    claim_add(post=two, actor=editor, passage=CLAIM, source_kind="doi", source=DOI, quote=QUOTE)
    one.refresh_from_db()
    two.refresh_from_db()
    assert one.current_revision.content["claims"] == two.current_revision.content["claims"]  # type: ignore[union-attr]
    assert one.content_hash == two.content_hash


def test_formats_1_and_2_never_hold_claims_so_old_revisions_keep_their_hash(post: Post, editor: Any) -> None:
    """A revision keeps the format it was made in; claims added since do not change what it hashes."""
    old_formats = {version: content_snapshot(post, version=version) for version in (1, 2)}
    assert all("claims" not in snapshot for snapshot in old_formats.values())
    # Format 2 as it was stored before format 3 existed: this exact post, this exact hash.
    legacy = Revision.objects.create(
        post=post,
        number=post.current_revision.number + 1,  # type: ignore[union-attr]
        content=old_formats[2],
        content_hash=content_hash(old_formats[2]),
        created_by=editor,
    )
    Post.objects.filter(pk=post.pk).update(current_revision=legacy)
    post.refresh_from_db()
    # An edit that format 2 sees the same way (nothing changed) keeps the old revision current.
    post_update(post=post, actor=editor, data={"body": BODY})
    post.refresh_from_db()
    assert post.current_revision == legacy
    claim_add(post=post, actor=editor, passage=CLAIM, source_kind="doi", source=DOI, quote=QUOTE)
    post.refresh_from_db()
    assert post.current_revision != legacy and post.current_revision.content["v"] == 3  # type: ignore[union-attr]
    legacy.refresh_from_db()
    assert legacy.content == old_formats[2] and legacy.content_hash == content_hash(old_formats[2])
    for version in (1, 2):
        assert content_snapshot(post, version=version) == old_formats[version]
    for revision in Revision.objects.filter(post=post):
        assert content_hash(revision.content) == revision.content_hash


def test_format_3_hash_is_pinned() -> None:
    """The canonical form of a claim list is fixed: a pinned snapshot hashes to a pinned digest."""
    snapshot = {
        "v": 3,
        "body": BODY,
        "claims": [{"passage": CLAIM, "kind": "doi", "source": DOI, "quote": QUOTE}],
    }
    assert content_hash(snapshot) == content_hash(dict(reversed(list(snapshot.items()))))
    assert content_hash(snapshot) == "10e670efb581f46097c64e9d6fb527064fd352edd932c950df0562daad26045f"


# Findings -----------------------------------------------------------------------------------


def codes(post: Post) -> list[str]:
    return [finding.code for finding in post_content_findings(post=post)]


def test_a_detected_claim_is_a_finding_until_it_is_marked_and_sources_text_no_longer_silences_it(
    post: Post, editor: Any
) -> None:
    findings = post_content_findings(post=post)
    assert [f.code for f in findings] == ["sources_missing"]
    assert CLAIM in findings[0].message and "mark it as a claim" in findings[0].message
    assert claims_for_editor(post=post).suggestions == [CLAIM]
    post_update(post=post, actor=editor, data={"sources": "Deutsche Herzstiftung, Herzbericht 2024"})
    assert codes(post) == ["sources_missing"]
    claim_add(post=post, actor=editor, passage=CLAIM)
    assert codes(post) == ["claim_source_missing"]
    assert claims_for_editor(post=post).suggestions == []
    claim_source_set(claim=post.claims.get(), actor=editor, source_kind="doi", source=DOI, quote=QUOTE)
    assert codes(post) == []


def test_a_claim_whose_passage_left_the_text_is_a_finding(post: Post, editor: Any) -> None:
    claim_add(post=post, actor=editor, passage=CLAIM, source_kind="doi", source=DOI, quote=QUOTE)
    post_update(post=post, actor=editor, data={"body": "Kommen Sie zum Infotag!"})
    post.refresh_from_db()
    assert codes(post) == ["claim_passage_missing"]


def test_text_segments_mark_each_claim_once_in_order() -> None:
    claims = [Claim(passage="20 %"), Claim(passage="Infotag"), Claim(passage="fehlt")]
    segments = text_segments("A 20 % B Infotag C Infotag", claims)
    assert [(s.text, s.claim) for s in segments] == [
        ("A ", 0),
        ("20 %", 1),
        (" B ", 0),
        ("Infotag", 2),
        (" C Infotag", 0),
    ]


# Who marks claims ---------------------------------------------------------------------------


def test_only_editors_of_the_post_mark_claims(post: Post, viewer: Any, other_editor: Any, editor: Any) -> None:
    before = state(post)
    for outsider in (viewer, other_editor):
        with pytest.raises(PermissionDenied):
            claim_add(post=post, actor=outsider, passage=CLAIM)
    assert state(post) == before
    claim = claim_add(post=post, actor=editor, passage=CLAIM)
    with pytest.raises(PermissionDenied):
        claim_source_set(claim=claim, actor=viewer, source_kind="doi", source=DOI, quote=QUOTE)
    with pytest.raises(PermissionDenied):
        claim_remove(claim=claim, actor=viewer)
    assert Claim.objects.filter(pk=claim.pk, source="").exists()


def test_editor_page_marks_a_typed_claim_and_a_viewer_is_refused(
    client: Any, post: Post, editor: Any, viewer: Any
) -> None:
    client.force_login(editor)
    page = client.get(reverse("posts:post_edit", args=[post.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Claims and sources" in html and "Mark as claim" in html and "rounds/claims.js" in html
    response = client.post(
        reverse("posts:claim_add", args=[post.pk]),
        {"passage": CLAIM, "source_kind": "doi", "source": DOI, "quote": QUOTE},
    )
    assert response.status_code == 302 and response["Location"].endswith(f"/posts/{post.pk}/edit/#claims")
    assert post.claims.get().source == DOI
    response = client.post(
        reverse("posts:claim_add", args=[post.pk]),
        {"passage": "Dr. Özdemir beantwortet Ihre Fragen!", "source_kind": "pmid", "source": "PMC1"},
        follow=True,
    )
    assert "A PubMed id is a number" in response.content.decode()
    assert post.claims.count() == 1
    client.force_login(viewer)
    response = client.post(reverse("posts:claim_remove", args=[post.pk, post.claims.get().pk]), follow=True)
    assert post.claims.count() == 1
