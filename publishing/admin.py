"""Governance's view of accounts (their credentials, which only the connectors understand), publications and takedowns.

Accounts are written through the posts services (which record the audit trail); publications and
takedowns are read-only here, since people act on the Publishing page, which audits every move.
"""

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from people.http import admin_user
from people.twofactor import ReauthenticatedAdminMixin
from posts.admin import ReadOnlyAdminMixin
from posts.models import Account, Platform
from posts.models import Connector as ConnectorChoice
from posts.services import ACCOUNT_FIELDS, account_save
from publishing.connectors.credentials import credentials_missing
from publishing.connectors.outbound import url_problem
from publishing.connectors.registry import CREDENTIAL_KEYS, credential_keys_for
from publishing.models import DeletionStatus, Publication, PublicationAttempt, TakedownItem
from publishing.policy import PublishingPolicy
from publishing.takedowns import takedown_delete

# Accounts -----------------------------------------------------------------------------------


class WriteOnlyTextarea(forms.Textarea):
    """A textarea that never renders a value: secrets typed or stored are not sent back."""

    def format_value(self, value: object) -> None:
        return None


def credentials_help(account: Account) -> str:
    """Return the credential keys, as HTML: the account's own connector's, or every connector's for a new one."""
    if account.pk:
        groups = [(account.connector, account.platform)]
    else:
        platforms = [platform for platform in CREDENTIAL_KEYS if platform != "webhook"]
        groups = [(ConnectorChoice.WEBHOOK, ""), *((ConnectorChoice.PLATFORM, platform) for platform in platforms)]
    blocks = []
    for connector, platform in groups:
        keys = credential_keys_for(connector=connector, platform=platform)
        if not keys:
            continue
        title = Platform(platform).label if connector == ConnectorChoice.PLATFORM else ConnectorChoice(connector).label
        items = format_html_join(
            "",
            "<li><code>{}</code> ({}): {}</li>",
            ((key.name, _("required") if key.required else _("optional"), key.help) for key in keys),
        )
        blocks.append(format_html("<p>{}</p><ul>{}</ul>", title, items))
    return format_html_join("", "{}", ((block,) for block in blocks))


class AccountAdminForm(forms.ModelForm[Account]):
    new_credentials = forms.CharField(
        label=_("New credentials (JSON)"),
        required=False,
        widget=WriteOnlyTextarea(attrs={"rows": 4, "autocomplete": "off", "spellcheck": "false"}),
        help_text=_(
            'A JSON object, e.g. {"access_token": "…"}. Leave blank to keep the stored credentials; '
            "they are never shown."
        ),
    )

    class Meta:
        model = Account
        fields = ACCOUNT_FIELDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["new_credentials"]
        field.help_text = format_html("{}{}", field.help_text, credentials_help(self.instance))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        typed = data.get("new_credentials")
        if typed is None:
            return data  # the stored ones stay; publishing names any key they lack
        keys = credential_keys_for(connector=data.get("connector", ""), platform=data.get("platform", ""))
        if not keys:
            return data
        missing = credentials_missing(keys, typed)
        unknown = sorted(set(typed) - {key.name for key in keys})
        if missing:
            self.add_error(
                "new_credentials",
                _("These credentials lack: %(keys)s.") % {"keys": ", ".join(missing)},
            )
        if unknown:
            self.add_error(
                "new_credentials",
                _("Keys this connector does not read (a typo?): %(keys)s.") % {"keys": ", ".join(unknown)},
            )
        for key in keys:
            value = str(typed.get(key.name) or "").strip()
            if key.url and value and (problem := url_problem(value)):
                self.add_error(
                    "new_credentials",
                    _("Rounds will not send to %(key)s: %(problem)s.") % {"key": key.name, "problem": problem},
                )
        return data

    def clean_new_credentials(self) -> dict[str, Any] | None:
        text = self.cleaned_data.get("new_credentials", "").strip()
        if not text:
            return None
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                _("This is not valid JSON (line %(line)s, column %(column)s)."),
                code="invalid_json",
                params={"line": exc.lineno, "column": exc.colno},
            ) from None
        if not isinstance(value, dict):
            raise forms.ValidationError(_('Enter a JSON object, e.g. {"token": "…"}.'), code="not_an_object")
        return value


@admin.register(Account)
class AccountAdmin(ReauthenticatedAdminMixin, admin.ModelAdmin[Account]):
    form = AccountAdminForm
    fields = (*ACCOUNT_FIELDS, "credentials_stored", "new_credentials")
    readonly_fields = ("credentials_stored",)
    list_display = ("name", "platform", "handle", "connector", "time_zone", "active")
    list_filter = ("platform", "connector", "active")
    search_fields = ("name", "handle")
    actions = ("deactivate", "activate")

    @admin.display(description=_("credentials stored"), boolean=True)
    def credentials_stored(self, obj: Account) -> bool:
        return bool(obj.credentials) if obj.pk else False

    def has_delete_permission(self, request: HttpRequest, obj: Account | None = None) -> bool:
        # Targets and publications point at accounts: deactivate one instead.
        return False

    def save_model(self, request: HttpRequest, obj: Account, form: forms.ModelForm[Account], change: bool) -> None:
        account_save(account=obj, actor=admin_user(request), credentials=form.cleaned_data.get("new_credentials"))

    def _set_active(self, request: HttpRequest, queryset: QuerySet[Account], active: bool) -> int:
        changed = 0
        for account in queryset.filter(active=not active):
            account.active = active
            account_save(account=account, actor=admin_user(request))
            changed += 1
        return changed

    @admin.action(description=_("Deactivate selected accounts"), permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset: QuerySet[Account]) -> None:
        count = self._set_active(request, queryset, active=False)
        self.message_user(
            request,
            ngettext("%(count)d account deactivated.", "%(count)d accounts deactivated.", count) % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Activate selected accounts"), permissions=["change"])
    def activate(self, request: HttpRequest, queryset: QuerySet[Account]) -> None:
        count = self._set_active(request, queryset, active=True)
        self.message_user(
            request,
            ngettext("%(count)d account activated.", "%(count)d accounts activated.", count) % {"count": count},
            messages.SUCCESS,
        )


@admin.register(TakedownItem)
class TakedownItemAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[TakedownItem]):
    list_display = (
        "post",
        "account",
        "cause",
        "reason",
        "created_at",
        "deletion_status",
        "confirmed_at",
        "confirmed_by",
    )
    list_filter = ("cause", "deletion_status", "account__platform", "post__campaign")
    list_select_related = ("post", "post__campaign", "account", "confirmed_by")
    search_fields = ("post__title", "post__external_id", "reason", "comment", "url")
    actions = ("delete_on_platform",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[TakedownItem]:
        # The same campaigns as on the Publishing page: a Communications reviewer sees only its own.
        campaigns = PublishingPolicy(request.user).takedown_campaign_ids
        return super().get_queryset(request).filter(post__campaign_id__in=campaigns)

    def has_delete_on_platform_permission(self, request: HttpRequest) -> bool:
        # Each item is checked again by the service (the campaign's editors, or who may change takedowns).
        return self.has_view_permission(request)

    @admin.action(description=_("Delete on platform"), permissions=["delete_on_platform"])
    def delete_on_platform(self, request: HttpRequest, queryset: QuerySet[TakedownItem]) -> None:
        deleted = 0
        for item in queryset.filter(confirmed_at__isnull=True).select_related("post__campaign", "account"):
            try:
                item = takedown_delete(item=item, actor=admin_user(request))
            except (PermissionDenied, ValidationError) as error:
                self.message_user(
                    request, f"{item}: {' '.join(getattr(error, 'messages', [str(error)]))}", messages.ERROR
                )
                continue
            if item.deletion_status == DeletionStatus.DELETED:
                deleted += 1
            else:
                self.message_user(request, f"{item}: {item.deletion_note}", messages.WARNING)
        self.message_user(
            request,
            ngettext("%(count)d post deleted on its platform.", "%(count)d posts deleted on their platforms.", deleted)
            % {"count": deleted},
            messages.SUCCESS if deleted else messages.INFO,
        )


# Publishing: read-only here; people act on the Publishing page, which audits every move.


class PublicationAttemptInline(ReadOnlyAdminMixin, admin.TabularInline[PublicationAttempt, Publication]):
    model = PublicationAttempt
    fields = ("started_at", "duration_ms", "outcome", "error", "response_excerpt")
    readonly_fields = fields
    extra = 0


@admin.register(Publication)
class PublicationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Publication]):
    list_display = ("post", "account", "status", "due_at", "next_attempt_at", "attempts", "published_at")
    list_filter = ("status", "account__platform")
    list_select_related = ("post", "account")
    search_fields = ("post__title", "external_id", "key", "last_error")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Publication]:
        campaigns = PublishingPolicy(request.user).publication_campaign_ids
        return super().get_queryset(request).filter(post__campaign_id__in=campaigns)

    fields = (
        "post",
        "account",
        "status",
        "due_at",
        "next_attempt_at",
        "attempts",
        "attempt_limit",
        "lease_until",
        "key",
        "content_hash",
        "external_id",
        "url",
        "last_error",
        "published_at",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields
    inlines = [PublicationAttemptInline]


@admin.register(PublicationAttempt)
class PublicationAttemptAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[PublicationAttempt]):
    list_display = ("publication", "started_at", "outcome", "duration_ms")
    list_filter = ("outcome",)
    list_select_related = ("publication__post", "publication__account")
