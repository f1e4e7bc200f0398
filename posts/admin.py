"""Governance's view of campaigns and posts (accounts: publishing.admin, which knows their connectors).

Campaigns are written through the posts services (which record the audit trail);
posts, their targets, media and revisions are read-only here, since posts are edited in the
web UI where review is bound to content.
"""

import json
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from django import forms
from django.contrib import admin
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from people.http import admin_user
from posts.models import Campaign, Claim, FeaturedPerson, LinkCard, Media, MediaScan, Post, PostTarget, Revision
from posts.services import campaign_create, campaign_update

HASH_PREFIX = 12


def _short(digest: str) -> str:
    return digest[:HASH_PREFIX]


class ReadOnlyAdminMixin:
    """Nobody adds, changes or deletes these rows in the admin; Governance may look."""

    # The admin builds a form of every field to list them, also on a page that only shows them:
    # a link's form field says how it reads an address without a scheme (https, Django 6's default).
    formfield_overrides: ClassVar[Mapping[type[models.Field[Any, Any]], Mapping[str, Any]]] = {
        models.URLField: {"assume_scheme": "https"}
    }

    # obj is the admin's own row, or an inline's parent row.
    def has_add_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False


# Campaigns ----------------------------------------------------------------------------------

CAMPAIGN_DATA_FIELDS = ("name", "goal", "start_date", "end_date", "colour", "hashtags", "purpose", "owner")


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin[Campaign]):
    list_display = ("name", "start_date", "end_date", "purpose", "owner", "colour")
    list_filter = ("purpose",)
    list_select_related = ("owner",)
    search_fields = ("name", "goal")
    autocomplete_fields = ("owner", "team", "reviewers")
    add_fields = ("name", "goal", "start_date", "end_date", "colour", "hashtags", "purpose", "team", "reviewers")

    def get_fields(self, request: HttpRequest, obj: Campaign | None = None) -> tuple[str, ...]:
        # A new campaign belongs to whoever creates it (campaign_create); the owner changes later.
        if obj is None:
            return self.add_fields
        return ("name", "goal", "start_date", "end_date", "colour", "hashtags", "purpose", "owner", "team", "reviewers")

    def has_delete_permission(self, request: HttpRequest, obj: Campaign | None = None) -> bool:
        # Posts, revisions and the audit trail point at campaigns; they stay.
        return False

    def save_model(self, request: HttpRequest, obj: Campaign, form: forms.ModelForm[Campaign], change: bool) -> None:
        data = dict(form.cleaned_data)
        if data.get("hashtags") is None:  # an empty JSON box means no hashtags
            data["hashtags"] = []
        if change:
            campaign = campaign_update(
                campaign=obj,
                actor=admin_user(request),
                data={field: data[field] for field in CAMPAIGN_DATA_FIELDS if field in data},
                team=data.get("team"),
                reviewers=data.get("reviewers"),
            )
        else:
            campaign = campaign_create(
                actor=admin_user(request),
                name=data["name"],
                goal=data.get("goal", ""),
                start_date=data["start_date"],
                end_date=data["end_date"],
                colour=data["colour"],
                hashtags=data["hashtags"],
                purpose=data["purpose"],
                team=data.get("team") or [],
                reviewers=data.get("reviewers") or [],
            )
        # The admin logs and redirects with the instance it built; make it the saved one.
        obj.pk = campaign.pk
        obj._state.adding = False
        obj.refresh_from_db()

    def save_related(
        self,
        request: HttpRequest,
        form: forms.ModelForm[Campaign],
        formsets: Sequence[forms.BaseFormSet[forms.BaseForm]],
        change: bool,
    ) -> None:
        # Team and reviewers were set by the service, which also syncs the object permissions.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


# Posts (read-only) --------------------------------------------------------------------------


class PostTargetInline(ReadOnlyAdminMixin, admin.TabularInline[PostTarget, Post]):
    model = PostTarget
    fields = ("account", "body_override")
    readonly_fields = fields
    extra = 0
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[PostTarget]:
        return super().get_queryset(request).select_related("account")


class MediaInline(ReadOnlyAdminMixin, admin.TabularInline[Media, Post]):
    model = Media
    fields = ("position", "kind", "alt_text", "width", "height", "format", "byte_size")
    readonly_fields = fields
    extra = 0
    show_change_link = True


@admin.register(Post)
class PostAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Post]):
    list_display = ("__str__", "campaign", "status", "scheduled_at", "author", "content_hash_short", "external_id")
    list_filter = ("status", "campaign", "content_type", "language")
    list_select_related = ("campaign", "author", "current_revision")
    search_fields = ("title", "body", "external_id")
    fields = (
        "campaign",
        "title",
        "body",
        "link",
        "hashtags",
        "content_type",
        "language",
        "sources",
        "status",
        "author",
        "scheduled_at",
        "time_zone",
        "current_revision",
        "content_hash_full",
        "approved_hash",
        "external_id",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields
    inlines = (PostTargetInline, MediaInline)

    @admin.display(description=_("content hash"))
    def content_hash_short(self, obj: Post) -> str:
        return _short(obj.content_hash)

    @admin.display(description=_("content hash"))
    def content_hash_full(self, obj: Post) -> str:
        return obj.content_hash


@admin.register(PostTarget)
class PostTargetAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[PostTarget]):
    list_display = ("post", "account", "post_status", "has_own_text")
    list_filter = ("post__status", "post__campaign", "account__platform")
    list_select_related = ("post", "account")
    search_fields = ("post__title", "account__name", "account__handle")
    fields = ("post", "account", "body_override")
    readonly_fields = fields

    @admin.display(description=_("status"), ordering="post__status")
    def post_status(self, obj: PostTarget) -> str:
        return obj.post.get_status_display()

    @admin.display(description=_("own text"), boolean=True)
    def has_own_text(self, obj: PostTarget) -> bool:
        return bool(obj.body_override)


@admin.register(Media)
class MediaAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Media]):
    list_display = ("preview", "alt_text", "post", "kind", "format", "width", "height", "byte_size", "checksum_short")
    list_filter = ("kind", "format", "original_had_location", "post__status", "post__campaign")
    list_select_related = ("post",)
    search_fields = ("alt_text", "checksum", "post__title")
    fields = (
        "preview",
        "post",
        "position",
        "kind",
        "alt_text",
        "file",
        "thumbnail",
        "width",
        "height",
        "format",
        "byte_size",
        "checksum",
        "original_had_location",
        "created_at",
    )
    readonly_fields = fields

    @admin.display(description=_("preview"))
    def preview(self, obj: Media) -> str:
        if not obj.thumbnail:
            return ""
        return format_html('<img src="{}" alt="{}" width="80">', obj.thumbnail.url, obj.alt_text)

    @admin.display(description=_("checksum"))
    def checksum_short(self, obj: Media) -> str:
        return _short(obj.checksum)


@admin.register(MediaScan)
class MediaScanAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[MediaScan]):
    """The image checks (issue 18): what was read in each image and found, for Governance and support."""

    list_display = ("media", "status", "face_count", "passage_count", "problems", "attempts", "finished_at")
    list_filter = ("status",)
    list_select_related = ("media",)
    search_fields = ("media__alt_text", "media__post__title", "text")
    fields = (
        "media",
        "status",
        "checksum",
        "text",
        "spans",
        "faces",
        "problems",
        "attempts",
        "queued_at",
        "started_at",
        "finished_at",
    )
    readonly_fields = fields

    @admin.display(description=_("faces"))
    def face_count(self, obj: MediaScan) -> int:
        return len(obj.faces)

    @admin.display(description=_("passages"))
    def passage_count(self, obj: MediaScan) -> int:
        return len(obj.spans)


@admin.register(Revision)
class RevisionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Revision]):
    list_display = ("__str__", "number", "content_hash_short", "created_by", "created_at")
    list_filter = ("post__status", "post__campaign")
    list_select_related = ("post", "created_by")
    search_fields = ("content_hash", "post__title", "post__external_id")
    fields = ("post", "number", "content_hash", "created_by", "created_at", "content_pretty")
    readonly_fields = fields

    @admin.display(description=_("content hash"), ordering="content_hash")
    def content_hash_short(self, obj: Revision) -> str:
        return _short(obj.content_hash)

    @admin.display(description=_("content"))
    def content_pretty(self, obj: Revision) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.content, indent=2, sort_keys=True, ensure_ascii=False))


@admin.register(FeaturedPerson)
class FeaturedPersonAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[FeaturedPerson]):
    list_display = ("subject", "post", "consent", "media_kinds")
    list_filter = ("post__status", "post__campaign")
    list_select_related = ("post", "subject", "consent__subject")
    search_fields = ("post__title", "post__external_id")


@admin.register(Claim)
class ClaimAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Claim]):
    """Claims are marked in the editor (posts.claims); here Governance looks them up."""

    list_display = ("__str__", "post", "source_kind", "source", "created_at")
    list_filter = ("source_kind", "post__status", "post__campaign")
    list_select_related = ("post",)
    search_fields = ("passage", "source", "quote", "post__title")
    fields = ("post", "passage", "source_kind", "source", "quote", "created_at")
    readonly_fields = fields


@admin.register(LinkCard)
class LinkCardAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[LinkCard]):
    """What a linked page said about itself when it was fetched for the previews (posts.linkcards); read-only."""

    list_display = ("url", "status", "title", "requested_at", "fetched_at")
    list_filter = ("status",)
    search_fields = ("url", "final_url", "title", "site_name")
    fields = (
        "url",
        "final_url",
        "status",
        "reason",
        "title",
        "description",
        "site_name",
        "image",
        "image_width",
        "image_height",
        "requested_at",
        "fetched_at",
    )
    readonly_fields = fields
