import uuid
from typing import Any
from urllib.parse import quote as url_quote

from django.conf import settings
from django.core.validators import MaxLengthValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.inputs import date_in_range
from people.models import time_zone_choices
from posts.fields import EncryptedJSONField

# The longest text a post (or one account's text) may have: far above every platform's limit
# (Facebook's 63,206 aside), so the platform rules speak first, but a bound, so a pasted file
# cannot make a post page megabytes long.
POST_TEXT_MAX = 20_000
SOURCES_MAX = 10_000


class Platform(models.TextChoices):
    FACEBOOK = "facebook", "Facebook"
    INSTAGRAM = "instagram", "Instagram"
    LINKEDIN = "linkedin", "LinkedIn"
    X = "x", "X"
    YOUTUBE = "youtube", "YouTube"
    TIKTOK = "tiktok", "TikTok"
    WEBHOOK = "webhook", _("Webhook")
    OUTBOX = "outbox", _("Outbox (folder)")


class Connector(models.TextChoices):
    PLATFORM = "platform", _("Platform API")
    WEBHOOK = "webhook", _("Webhook")
    OUTBOX = "outbox", _("Outbox folder")


class Purpose(models.TextChoices):
    EDUCATION = "education", _("Education")
    MARKETING = "marketing", _("Marketing")
    FUNDRAISING = "fundraising", _("Fundraising")
    RECRUITING = "recruiting", _("Recruiting")
    CRISIS = "crisis", _("Crisis")


class ContentType(models.TextChoices):
    EDUCATION = "education", _("Education")
    PATIENT_STORY = "patient_story", _("Patient story")
    BEHIND_THE_SCENES = "behind_the_scenes", _("Behind the scenes")
    EVENT = "event", _("Event")
    CRISIS = "crisis", _("Crisis")
    RECRUITING = "recruiting", _("Recruiting")
    OTHER = "other", _("Other")


class PostStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    APPROVED = "approved", _("Approved")
    SCHEDULED = "scheduled", _("Scheduled")
    PUBLISHED = "published", _("Published")
    PARTIALLY_PUBLISHED = "partially_published", _("Partially published")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    BLOCKED = "blocked", _("Blocked")
    FAILED = "failed", _("Failed")


colour_validator = RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Enter a colour as #rrggbb."))


class Campaign(models.Model):
    """A planned series of posts with a goal, a period, an owner and a team."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    goal = models.TextField(_("goal"), blank=True)
    start_date = models.DateField(_("start date"), validators=[date_in_range])
    end_date = models.DateField(_("end date"), validators=[date_in_range])
    colour = models.CharField(_("colour"), max_length=7, default="#2563eb", validators=[colour_validator])
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="owned_campaigns"
    )
    team = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("team"),
        blank=True,
        related_name="campaigns",
        help_text=_("People who may see and edit this campaign's posts."),
    )
    reviewers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned reviewers"),
        blank=True,
        related_name="reviewed_campaigns",
        help_text=_("Reviewers who may see and decide on this campaign's posts."),
    )
    hashtags = models.JSONField(_("hashtags"), default=list, blank=True)
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices, default=Purpose.EDUCATION)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-start_date", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=models.F("start_date")), name="campaign_end_after_start"),
        ]

    def __str__(self) -> str:
        return self.name


class Account(models.Model):
    """One platform channel the organisation publishes to."""

    platform = models.CharField(_("platform"), max_length=20, choices=Platform.choices)
    name = models.CharField(_("name"), max_length=200)
    handle = models.CharField(_("handle"), max_length=200)
    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/Berlin", choices=time_zone_choices)
    active = models.BooleanField(_("active"), default=True)
    connector = models.CharField(
        _("connector"),
        max_length=20,
        choices=Connector.choices,
        default=Connector.OUTBOX,
        help_text=_("How posts reach this account: the platform's API, a webhook, or the outbox folder."),
    )
    credentials = EncryptedJSONField(_("credentials"), blank=True, default=dict)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["platform", "name"]
        constraints = [
            models.UniqueConstraint(fields=["platform", "handle"], name="account_unique_handle"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_platform_display()})"

    @property
    def at_handle(self) -> str:
        """Return the handle as people write it, with one leading @ (plans give it with or without)."""
        return "@" + self.handle.lstrip("@")


def post_name(title: str, body: str, pk: int | None) -> str:
    """Return how a post is named in lists and pages: its title, else the start of its text, else its number."""
    return title or (body[:60] + ("…" if len(body) > 60 else "")) or f"#{pk}"


class Post(models.Model):
    """A piece of content for one or more accounts, planned for one moment."""

    campaign = models.ForeignKey(Campaign, verbose_name=_("campaign"), on_delete=models.PROTECT, related_name="posts")
    title = models.CharField(_("internal title"), max_length=200, blank=True)
    body = models.TextField(_("text"), blank=True, validators=[MaxLengthValidator(POST_TEXT_MAX)])
    link = models.URLField(_("link"), max_length=2000, blank=True)
    hashtags = models.JSONField(_("hashtags"), default=list, blank=True)
    content_type = models.CharField(
        _("content type"), max_length=30, choices=ContentType.choices, default=ContentType.EDUCATION
    )
    language = models.CharField(_("language"), max_length=8, default="de")
    sources = models.TextField(
        _("sources"),
        blank=True,
        validators=[MaxLengthValidator(SOURCES_MAX)],
        help_text=_("Citations for medical claims, one per line."),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=PostStatus.choices, default=PostStatus.DRAFT, db_index=True
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT, related_name="posts"
    )
    scheduled_at = models.DateTimeField(
        _("scheduled time"), null=True, blank=True, db_index=True, validators=[date_in_range]
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default="Europe/Berlin",
        choices=time_zone_choices,
        help_text=_("The zone the scheduled time was planned in."),
    )
    current_revision = models.ForeignKey(
        "Revision",
        verbose_name=_("current revision"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    approved_hash = models.CharField(
        _("approved content hash"),
        max_length=64,
        blank=True,
        help_text=_("Set by the review chain when every stage approved this exact content."),
    )
    # Derived from the review chain's approval (`approvals.services.recertification_due_refresh`
    # writes it): stored so the reviewers' list of due posts is an index range, not a scan of every
    # live post and its rounds.
    recertify_due_at = models.DateTimeField(
        _("due for re-certification"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("Set while the post is live evergreen content whose review chain re-certifies it."),
    )
    external_id = models.CharField(_("plan row id"), max_length=200, blank=True)
    # Crisis handling (SPEC section 1): editors ask for it, Communications or Governance declare it.
    crisis_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("crisis handling requested by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    crisis_requested_at = models.DateTimeField(_("crisis handling requested"), null=True, blank=True)
    crisis_request_reason = models.TextField(_("reason for crisis handling"), blank=True, max_length=2000)
    crisis_declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("crisis declared by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    crisis_declared_at = models.DateTimeField(_("crisis declared"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        ordering = ["scheduled_at", "pk"]
        permissions = [
            ("import_plan", _("Can import campaign plans")),
            ("declare_crisis", _("Can declare a post a crisis")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"], condition=~Q(external_id=""), name="post_unique_external_id"
            ),
            models.CheckConstraint(condition=Q(status__in=PostStatus.values), name="post_status_valid"),
        ]
        indexes = [
            models.Index(fields=["campaign", "scheduled_at"], name="post_campaign_time_idx"),
            # Only live evergreen posts have a due moment: a small index, read by range.
            models.Index(
                fields=["recertify_due_at"], condition=Q(recertify_due_at__isnull=False), name="post_recertify_due_idx"
            ),
        ]

    def __str__(self) -> str:
        return post_name(self.title, self.body, self.pk)

    @property
    def content_hash(self) -> str:
        return self.current_revision.content_hash if self.current_revision_id else ""  # type: ignore[union-attr]

    @property
    def is_approved_as_is(self) -> bool:
        """True when the review chain approved exactly the current content."""
        return bool(self.approved_hash) and self.approved_hash == self.content_hash


class PostTarget(models.Model):
    """One account a post goes to, with optional text written for that account."""

    post = models.ForeignKey(Post, verbose_name=_("post"), on_delete=models.CASCADE, related_name="targets")
    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="post_targets"
    )
    body_override = models.TextField(
        _("text for this account"), blank=True, validators=[MaxLengthValidator(POST_TEXT_MAX)]
    )

    class Meta:
        verbose_name = _("target account")
        verbose_name_plural = _("target accounts")
        ordering = ["account__platform", "account__name"]
        constraints = [models.UniqueConstraint(fields=["post", "account"], name="posttarget_unique_account")]

    def __str__(self) -> str:
        return str(self.account)

    @property
    def text(self) -> str:
        return self.body_override or self.post.body


def media_upload_to(instance: "Media", filename: str) -> str:
    # Our own names: never the uploader's, which may leak patient names.
    extension = filename.rsplit(".", 1)[-1].lower()
    return f"posts/{uuid.uuid4().hex}.{extension}"


class MediaKind(models.TextChoices):
    PHOTO = "photo", _("Photo")
    VIDEO = "video", _("Video")


class Media(models.Model):
    """An image of a post, as re-encoded by the media pipeline (no metadata, upright)."""

    post = models.ForeignKey(Post, verbose_name=_("post"), on_delete=models.CASCADE, related_name="media")
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    kind = models.CharField(_("kind"), max_length=10, choices=MediaKind.choices, default=MediaKind.PHOTO)
    file = models.FileField(_("file"), upload_to=media_upload_to, max_length=300)
    thumbnail = models.FileField(_("thumbnail"), upload_to=media_upload_to, max_length=300)
    alt_text = models.CharField(_("alt text"), max_length=1000)
    checksum = models.CharField(_("SHA-256 of the stored file"), max_length=64)
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    format = models.CharField(_("format"), max_length=10)
    byte_size = models.PositiveIntegerField(_("size in bytes"))
    # That the uploaded original carried a place (EXIF GPS, XMP); the stored file has none, and the
    # place itself is never kept. Reviewers are told (posts.patient_data). Not part of the content hash.
    original_had_location = models.BooleanField(_("original carried a location"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("media")
        verbose_name_plural = _("media")
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.alt_text[:60]

    @property
    def aspect_ratio(self) -> float:
        return self.width / self.height if self.height else 0.0


class ScanStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting to be checked")
    RUNNING = "running", _("Being checked")
    DONE = "done", _("Checked")
    FAILED = "failed", _("Could not be checked")


class MediaScan(models.Model):
    """What the image check found in one stored image: text read by OCR, its patient data, and faces (issue 18).

    Runs in the background after the upload (`posts.scans`); ``checksum`` is the stored file's it read.
    Boxes are ``[left, top, width, height]`` in the stored image's pixels.
    """

    media = models.OneToOneField(
        Media, verbose_name=_("media"), on_delete=models.CASCADE, primary_key=True, related_name="scan"
    )
    status = models.CharField(_("status"), max_length=10, choices=ScanStatus.choices, default=ScanStatus.WAITING)
    checksum = models.CharField(_("SHA-256 of the file read"), max_length=64, blank=True)
    text = models.TextField(_("text read"), blank=True)
    # [{"label", "start", "end", "text", "sensitivity", "reason", "box"}], offsets into ``text``.
    spans = models.JSONField(_("patient data in the text"), default=list, blank=True)
    faces = models.JSONField(_("faces"), default=list, blank=True)
    # What could not be done: "ocr_missing", "faces_missing", "unreadable".
    problems = models.JSONField(_("problems"), default=list, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    queued_at = models.DateTimeField(_("queued"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("image check")
        verbose_name_plural = _("image checks")
        indexes = [models.Index(fields=["status", "queued_at"], name="mediascan_status_queued")]

    def __str__(self) -> str:
        return f"{self.media_id}: {self.status}"

    @property
    def is_finished(self) -> bool:
        return self.status in {ScanStatus.DONE, ScanStatus.FAILED}


class RevisionQuerySet(models.QuerySet["Revision"]):
    def update(self, **kwargs: Any) -> int:
        raise TypeError("Revisions are immutable.")


class Revision(models.Model):
    """An immutable snapshot of a post's content and the SHA-256 of its canonical form."""

    post = models.ForeignKey(Post, verbose_name=_("post"), on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField(_("number"))
    content = models.JSONField(_("content"))
    content_hash = models.CharField(_("content hash"), max_length=64, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        null=True,
        related_name="revisions",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = RevisionQuerySet.as_manager()

    class Meta:
        verbose_name = _("revision")
        verbose_name_plural = _("revisions")
        ordering = ["post", "-number"]
        constraints = [models.UniqueConstraint(fields=["post", "number"], name="revision_unique_number")]

    def __str__(self) -> str:
        return f"{self.post} r{self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise TypeError("Revisions are immutable.")
        super().save(*args, **kwargs)


class FeaturedPerson(models.Model):
    """A person a post shows, what it shows of them, and the consent it relies on."""

    post = models.ForeignKey(Post, verbose_name=_("post"), on_delete=models.CASCADE, related_name="featured_people")
    subject = models.ForeignKey(
        "consent.Subject", verbose_name=_("person"), on_delete=models.PROTECT, related_name="featured_in"
    )
    consent = models.ForeignKey(
        "consent.ConsentRecord",
        verbose_name=_("consent"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="featured_in",
    )
    media_kinds = models.JSONField(_("shows"), default=list, help_text=_("What of the person this post shows."))

    class Meta:
        verbose_name = _("featured person")
        verbose_name_plural = _("featured people")
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["post", "subject"], name="featured_unique_subject")]

    def __str__(self) -> str:
        return str(self.subject)


CLAIM_PASSAGE_MAX = 2_000
CLAIM_QUOTE_MAX = 4_000


class SourceKind(models.TextChoices):
    URL = "url", _("Web address")
    DOI = "doi", _("DOI")
    PMID = "pmid", _("PubMed id")


class Claim(models.Model):
    """A passage of a post's text that states a medical fact, and the source it rests on.

    Reviewed content (snapshot format 3, `posts.content`): any change of a claim or its source
    makes a new revision. A claim may be marked before its source is linked (``source_kind`` "").
    """

    post = models.ForeignKey(Post, verbose_name=_("post"), on_delete=models.CASCADE, related_name="claims")
    passage = models.TextField(
        _("claim"),
        validators=[MaxLengthValidator(CLAIM_PASSAGE_MAX)],
        help_text=_("The sentence or words of the post's text that state the claim, exactly as written."),
    )
    source_kind = models.CharField(_("kind of source"), max_length=10, choices=SourceKind.choices, blank=True)
    source = models.CharField(
        _("source"),
        max_length=2000,
        blank=True,
        help_text=_("A web address (https://…), a DOI (10.1234/…) or a PubMed id (digits)."),
    )
    quote = models.TextField(
        _("quoted sentence"),
        blank=True,
        validators=[MaxLengthValidator(CLAIM_QUOTE_MAX)],
        help_text=_("The sentence of the source that supports the claim, copied from it."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("claim")
        verbose_name_plural = _("claims")
        ordering = ["post", "pk"]
        # A passage is marked once per post: `posts.claims.claim_add` checks it under the post's lock.
        # No unique index: a 2,000-character passage passes PostgreSQL's limit for a btree entry.
        constraints = [
            models.CheckConstraint(condition=~Q(passage=""), name="claim_passage_not_empty"),
            models.CheckConstraint(
                condition=Q(source_kind="", source="", quote="")
                | (Q(source_kind__in=SourceKind.values) & ~Q(source="") & ~Q(quote="")),
                name="claim_source_complete",
            ),
        ]

    def __str__(self) -> str:
        return self.passage[:60] + ("…" if len(self.passage) > 60 else "")

    @property
    def has_source(self) -> bool:
        return bool(self.source_kind)

    @property
    def source_url(self) -> str:
        """Return where a reader opens the source: the URL, doi.org for a DOI, PubMed for a PMID."""
        if self.source_kind == SourceKind.DOI:
            # Encoded as the DOI Handbook asks (a DOI may hold "#", "?" or "%"); "/" stays.
            return "https://doi.org/" + url_quote(self.source, safe="/:;()")
        if self.source_kind == SourceKind.PMID:
            return f"https://pubmed.ncbi.nlm.nih.gov/{self.source}/"
        return self.source


def linkcard_upload_to(instance: "LinkCard", filename: str) -> str:
    extension = filename.rsplit(".", 1)[-1].lower()
    return f"linkcards/{uuid.uuid4().hex}.{extension}"


class LinkCardStatus(models.TextChoices):
    PENDING = "pending", _("Fetching")
    OK = "ok", _("Fetched")
    FAILED = "failed", _("Failed")


class LinkCard(models.Model):
    """What a web page says about itself (Open Graph), fetched once for every post that links to it.

    Not part of a post's content or its revisions: a page may change its card at any time, so the
    card shown is what the page said when last fetched (``fetched_at``).
    """

    url_hash = models.CharField(_("SHA-256 of the URL"), max_length=64, unique=True)
    url = models.URLField(_("URL"), max_length=2048)
    final_url = models.URLField(_("URL after redirects"), max_length=2048, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=LinkCardStatus.choices, default=LinkCardStatus.PENDING
    )
    reason = models.CharField(_("why it failed"), max_length=300, blank=True)
    title = models.CharField(_("title"), max_length=300, blank=True)
    description = models.CharField(_("description"), max_length=1000, blank=True)
    site_name = models.CharField(_("site name"), max_length=200, blank=True)
    image = models.FileField(_("image thumbnail"), upload_to=linkcard_upload_to, max_length=300, blank=True)
    image_width = models.PositiveIntegerField(_("image width"), null=True, blank=True)
    image_height = models.PositiveIntegerField(_("image height"), null=True, blank=True)
    requested_at = models.DateTimeField(_("requested"))
    fetched_at = models.DateTimeField(_("fetched"), null=True, blank=True)

    class Meta:
        verbose_name = _("link card")
        verbose_name_plural = _("link cards")
        constraints = [
            models.CheckConstraint(condition=Q(status__in=LinkCardStatus.values), name="linkcard_status_valid"),
        ]

    def __str__(self) -> str:
        return self.url[:80]
