"""Forms of the post editor and the campaign pages: they parse and check input; services write."""

import datetime as dt
import functools
import zoneinfo
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import RegexValidator, URLValidator
from django.db import models
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.urls import reverse
from django.utils import formats
from django.utils.choices import BaseChoiceIterator
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _

from consent.gate import Feature, record_problems
from consent.models import ConsentPlatform, ConsentPurpose, ConsentRecord, Subject
from consent.models import MediaKind as ConsentMediaKind
from core.form_renderer import attrs_html
from core.inputs import BoundedDateField, date_in_range, local_moment
from core.rows import escape
from people.models import User, time_zone_choices
from posts import platforms
from posts.media import ProcessedImage, image_process
from posts.models import (
    POST_TEXT_MAX,
    SOURCES_MAX,
    Account,
    Campaign,
    ContentType,
    Media,
    Post,
    PostStatus,
    PostTarget,
    Purpose,
    Revision,
    colour_validator,
)
from posts.movechecks import MOVE_CONFIRM
from posts.pending import KeptUpload, pending_discard, pending_file, pending_find, pending_keep
from posts.policy import PostPolicy, may_declare_crisis
from posts.scans import ScanState, scan_states
from posts.selectors import (
    CONSENT_OPTIONS_MAX,
    accounts_active,
    campaign_reviewer_candidates,
    campaign_team_candidates,
    consents_offered,
)
from posts.services import RESTART_ASKED, RESTART_QUESTIONS, FeatureSpec, NewMedia, TargetSpec

# New images per save; more can be added by saving again.
NEW_MEDIA_SLOTS: Final = 4

_LANGUAGE = RegexValidator(
    r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$", gettext_lazy("Enter a language code such as de, en or pt-BR.")
)
_SAFE_SCHEMES: Final = ("http", "https")


def link_clean(raw: str) -> str:
    """Return the stripped link, or raise ValidationError unless it is an http(s) web address."""
    link = raw.strip()
    if not link:
        return ""
    scheme = link.split(":", 1)[0].lower() if ":" in link else ""
    if scheme not in _SAFE_SCHEMES:
        raise ValidationError(
            _("Only web links are allowed: the address must start with http:// or https://."), code="link_scheme"
        )
    URLValidator(
        schemes=list(_SAFE_SCHEMES), message=_("Enter a valid web address, such as https://example.org/page.")
    )(link)
    return link


def link_or_empty(raw: str) -> str:
    """Return the link if it is a safe web address, else "" (for previews of unsaved input)."""
    try:
        return link_clean(raw)
    except ValidationError:
        return ""


def hashtags_text(tags: Iterable[str]) -> str:
    return " ".join(f"#{tag}" for tag in tags)


def hashtags_clean(raw: str) -> list[str]:
    """Return the cleaned tags, or raise ValidationError with one message per unpublishable tag."""
    tags = platforms.normalise_hashtags(raw)
    errors = platforms.hashtag_errors(tags)
    if errors:
        raise ValidationError(errors, code="hashtag_invalid")
    return tags


def aware_from_local(day: dt.date, time: dt.time, zone_name: str) -> dt.datetime:
    """Return the UTC moment a wall-clock time names in a zone; refuse one that does not exist or repeats."""
    zone = zoneinfo.ZoneInfo(zone_name)
    naive = dt.datetime.combine(day, time)
    first = local_moment(day, time, zone)
    params = {
        "time": formats.time_format(time, "TIME_FORMAT"),
        "date": formats.date_format(day, "DATE_FORMAT"),
        "zone": zone_name,
    }
    # A time in the spring gap does not survive the trip to UTC and back.
    if first.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None) != naive:
        raise ValidationError(
            _(
                "%(time)s does not exist on %(date)s in %(zone)s: the clocks go forward then. "
                "Choose a time outside the skipped hour."
            ),
            code="nonexistent_time",
            params=params,
        )
    if first.utcoffset() != naive.replace(tzinfo=zone, fold=1).utcoffset():
        raise ValidationError(
            _(
                "%(time)s happens twice on %(date)s in %(zone)s: the clocks go back then. "
                "Choose a time outside the repeated hour."
            ),
            code="ambiguous_time",
            params=params,
        )
    return first.astimezone(dt.UTC)


# The post editor ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DraftMedia:
    """One image of a post being edited, as the rules and the preview see it."""

    info: platforms.MediaInfo
    thumbnail_url: str = ""


@dataclass(frozen=True)
class Draft:
    """What the editor currently holds, saved or not: enough to compute findings and previews."""

    title: str
    body: str
    link: str
    hashtags: list[str]
    targets: list[tuple[Account, str]]
    media: list[DraftMedia]


def _media_info(media: Media, alt_text: str | None = None) -> platforms.MediaInfo:
    return platforms.MediaInfo(
        kind=media.kind,
        width=media.width,
        height=media.height,
        format=media.format,
        byte_size=media.byte_size,
        alt_text=media.alt_text if alt_text is None else alt_text,
    )


def _thumbnail_url(media: Media) -> str:
    return reverse("media", args=[media.thumbnail.name]) if media.thumbnail else ""


def draft_from_post(post: Post) -> Draft:
    """Return the saved post as a draft; uses its prefetched targets and media."""
    return Draft(
        title=post.title,
        body=post.body,
        link=post.link,
        hashtags=list(post.hashtags),
        targets=[(target.account, target.body_override) for target in post.targets.all()],
        media=[DraftMedia(_media_info(media), _thumbnail_url(media)) for media in post.media.all()],
    )


def _int(value: str | None, default: int = 0) -> int:
    try:
        return int(value or "")
    except ValueError:
        return default


_MIME_FORMATS: Final = {"image/jpeg": "jpeg", "image/png": "png", "image/webp": "webp"}


def _getlist(data: Mapping[str, Any], key: str) -> list[str]:
    if isinstance(data, QueryDict):
        return data.getlist(key)
    value = data.get(key)
    if value is None:
        return []
    return [str(item) for item in value] if isinstance(value, list | tuple) else [str(value)]


def draft_from_data(
    data: Mapping[str, Any],
    *,
    accounts: Iterable[Account],
    existing_media: Sequence[Media],
    uploads: Iterable[str] = (),
) -> Draft:
    """Return the editor's unsaved input as a draft, leniently: bad values are left out, not refused.

    ``uploads`` names the upload slots that hold a file in this request; the editor's script may
    also describe files it has not sent (``new_media_<slot>_format``, ``_width``, ``_height``, ``_size``).
    """
    chosen = set(_getlist(data, "targets"))
    targets = [
        (account, data.get(f"override_{account.pk}", "").strip()) for account in accounts if str(account.pk) in chosen
    ]
    kept: list[tuple[int, int, DraftMedia]] = []
    for index, media in enumerate(existing_media):
        if data.get(f"media_remove_{media.pk}"):
            continue
        alt_text = data.get(f"media_alt_{media.pk}", media.alt_text)
        order = _int(data.get(f"media_order_{media.pk}"), media.position + 1)
        kept.append((order, index, DraftMedia(_media_info(media, alt_text), _thumbnail_url(media))))
    media_list = [item for _order, _index, item in sorted(kept, key=lambda entry: entry[:2])]
    sent = set(uploads)
    for slot in range(NEW_MEDIA_SLOTS):
        described = data.get(f"new_media_{slot}_format", "")
        if f"new_file_{slot}" not in sent and not described:
            continue
        media_list.append(
            DraftMedia(
                platforms.MediaInfo(
                    kind="photo",
                    width=max(_int(data.get(f"new_media_{slot}_width")), 0),
                    height=max(_int(data.get(f"new_media_{slot}_height")), 0),
                    format=_MIME_FORMATS.get(described, described if described in _MIME_FORMATS.values() else ""),
                    byte_size=max(_int(data.get(f"new_media_{slot}_size")), 0),
                    alt_text=data.get(f"new_alt_{slot}", ""),
                )
            )
        )
    return Draft(
        title=data.get("title", ""),
        body=data.get("body", ""),
        link=link_or_empty(data.get("link", "")),
        hashtags=platforms.normalise_hashtags(data.get("hashtags", "")),
        targets=targets,
        media=media_list,
    )


def editor_accounts(post: Post | None) -> QuerySet[Account]:
    """Return the accounts the editor offers: the active ones, and any the post already targets."""
    if post is None or post.pk is None:
        return accounts_active()
    # A subquery, not a join: joined, every target of every active account is read and de-duplicated.
    targeted = PostTarget.objects.filter(post=post).values("account_id")
    return Account.objects.filter(Q(active=True) | Q(pk__in=targeted)).order_by("platform", "name")


@dataclass(frozen=True)
class TargetRow:
    """One target account checkbox of the editor, with its per-account text field."""

    account: Account
    checked: bool
    override: forms.BoundField


@dataclass(frozen=True)
class MediaRow:
    """One saved image in the editor, with its alt text, removal and order fields."""

    media: Media
    thumbnail_url: str
    alt_text: forms.BoundField
    remove: forms.BoundField
    order: forms.BoundField
    check: ScanState


@dataclass(frozen=True)
class UploadSlot:
    """One "add an image" slot; ``kept`` is the image kept from a refused save, ``extra`` an unneeded empty slot."""

    index: int
    file: forms.BoundField
    alt_text: forms.BoundField
    kept: KeptUpload | None
    extra: bool


@dataclass(frozen=True)
class FeaturedRow:
    """One "featured person" slot; ``extra`` marks an empty slot beyond the first (scripts hide it)."""

    index: int
    subject: forms.BoundField
    consent: forms.BoundField
    kinds: forms.BoundField
    search: str
    extra: bool


# Zones people in the hospital's region pick most, by the region's first zone-name part.
COMMON_ZONES: Final = {
    "Europe": (
        "Europe/Berlin",
        "Europe/Vienna",
        "Europe/Zurich",
        "Europe/Amsterdam",
        "Europe/Brussels",
        "Europe/Paris",
        "Europe/London",
        "Europe/Madrid",
        "Europe/Rome",
        "Europe/Warsaw",
        "Europe/Istanbul",
        "UTC",
    ),
    "Asia": ("Asia/Tokyo", "Asia/Seoul", "Asia/Shanghai", "Asia/Singapore", "Asia/Kolkata", "Asia/Dubai", "UTC"),
    "America": (
        "America/New_York",
        "America/Chicago",
        "America/Denver",
        "America/Los_Angeles",
        "America/Toronto",
        "America/Sao_Paulo",
        "UTC",
    ),
}
_CONTINENTS: Final = {
    "Africa": gettext_lazy("Africa"),
    "America": gettext_lazy("Americas"),
    "Antarctica": gettext_lazy("Antarctica"),
    "Arctic": gettext_lazy("Arctic"),
    "Asia": gettext_lazy("Asia"),
    "Atlantic": gettext_lazy("Atlantic"),
    "Australia": gettext_lazy("Australia"),
    "Europe": gettext_lazy("Europe"),
    "Indian": gettext_lazy("Indian Ocean"),
    "Pacific": gettext_lazy("Pacific"),
}


class ZoneChoices(BaseChoiceIterator):
    """Every zone in groups (`zone_choices_grouped`), already in the shape Django normalises choices to.

    A field and its widget keep choices of this type as they are: normalising the six hundred zones
    again, for the field and again for its widget, took the editor about 2 ms a page (issue 17).
    `ZoneSelect` keeps the options' markup of the last few selected values.
    """

    def __init__(self, groups: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]) -> None:
        self.groups = groups
        self._options: dict[str, str] = {}

    def __iter__(self) -> Iterator[tuple[str, tuple[tuple[str, str], ...]]]:
        return iter(self.groups)

    def __len__(self) -> int:
        return len(self.groups)

    def options_html(self, selected: str, render: Callable[[], str]) -> str:
        """Return the options' markup with ``selected`` chosen: ``render()`` once, then kept (a few values)."""
        html = self._options.get(selected)
        if html is None:
            if len(self._options) >= 8:
                self._options.clear()
            html = self._options[selected] = render()
        return html


def zone_choices_grouped(*, first: Iterable[str]) -> ZoneChoices:
    """Return every zone in groups: ``first`` (the accounts' and the user's), the region's common ones, by continent.

    Each zone is listed once; the region is that of the first zone given, else the site's own zone.
    """
    available = _zones_available()
    mine = tuple(dict.fromkeys(zone for zone in first if zone in available))
    # The same few lists for every editor page: grouping and naming 600 zones took it 3 ms each time.
    return _zone_choices(mine, get_language(), settings.TIME_ZONE)


@functools.lru_cache(maxsize=512)
def _zone_choices(mine: tuple[str, ...], language: str | None, site_zone: str) -> ZoneChoices:
    return ZoneChoices(_zone_groups(mine, language, site_zone))


@functools.cache
def _zones_available() -> frozenset[str]:
    return frozenset(name for name, _label in time_zone_choices())


@functools.lru_cache(maxsize=512)
def _zone_groups(
    mine: tuple[str, ...], language: str | None, site_zone: str
) -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    """``zone_choices_grouped`` of the zones ``mine``, in ``language`` (the active one)."""
    available = _zones_available()
    region = (mine[0] if mine else site_zone).split("/", 1)[0]
    common = [zone for zone in COMMON_ZONES.get(region, ("UTC",)) if zone in available and zone not in mine]
    listed = set(mine) | set(common)
    groups: list[tuple[str, tuple[tuple[str, str], ...]]] = []
    if mine:
        groups.append((_("Your accounts and you"), tuple((zone, zone) for zone in mine)))
    if common:
        label = _CONTINENTS.get(region)
        title = _("Common in %(region)s") % {"region": label} if label else _("Common")
        groups.append((title, tuple((zone, zone) for zone in common)))
    by_continent: dict[str, list[tuple[str, str]]] = {}
    for name in sorted(available - listed):
        part = name.split("/", 1)[0] if "/" in name else ""
        key = str(_CONTINENTS[part]) if part in _CONTINENTS else _("Other")
        by_continent.setdefault(key, []).append((name, name))
    other = by_continent.pop(_("Other"), [])
    groups.extend((key, tuple(by_continent[key])) for key in sorted(by_continent))
    if other:
        groups.append((_("Other"), tuple(other)))
    return tuple(groups)


@dataclass(frozen=True)
class PickerScope:
    """What decides which consents the picker offers: the post's time, its platforms and its purpose."""

    at: dt.datetime
    platforms: tuple[str, ...]
    purpose: str | None


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value or ""))
    except ValueError:
        return None


def _as_time(value: Any) -> dt.time | None:
    if isinstance(value, dt.time):
        return value
    try:
        return dt.time.fromisoformat(str(value or ""))
    except ValueError:
        return None


def picker_scope(
    data: Mapping[str, Any], *, accounts: Iterable[Account], campaigns: QuerySet[Campaign], post: Post | None
) -> PickerScope:
    """Return the scope of the editor's (unsaved) input, leniently: a time that does not parse means now."""
    chosen = {str(value) for value in _getlist(data, "targets")}
    platforms_chosen = tuple(sorted({account.platform for account in accounts if str(account.pk) in chosen}))
    campaign_id = post.campaign_id if post is not None else _int(str(data.get("campaign") or ""))
    if post is not None and Post.campaign.is_cached(post):
        purpose: str | None = post.campaign.purpose  # a post's campaign is the one it has, loaded with it
    else:
        purpose = campaigns.filter(pk=campaign_id).values_list("purpose", flat=True).first()
    at: dt.datetime | None = None
    day, time, zone = _as_date(data.get("scheduled_date")), _as_time(data.get("scheduled_time")), data.get("time_zone")
    if day is not None and time is not None and str(zone) in _zones_available():
        try:
            at = aware_from_local(day, time, str(zone))
        except (ValidationError, OverflowError):
            at = None
    if at is None and post is not None and post.scheduled_at is not None and day is None:
        at = post.scheduled_at
    return PickerScope(at=at or dt.datetime.now(tz=dt.UTC), platforms=platforms_chosen, purpose=purpose)


FEATURED_SLOTS = 3
# Longer than any name or reference: a longer search is cut, not refused.
CONSENT_SEARCH_MAX = 100


def _labels(choices: type[models.TextChoices], values: Iterable[str]) -> str:
    names = dict(choices.choices)
    return ", ".join(str(names.get(value, value)) for value in values)


class ZoneSelect(forms.Select):
    """The time zone list, written out in Python: the same markup as Django's select template.

    Through the option template, its six hundred options cost the editor tens of milliseconds a page.
    """

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        chosen = {str(item) for item in self.format_value(value)}

        def options() -> str:
            parts = []
            for group, items in self.choices:
                if isinstance(items, (list, tuple)):
                    parts.append(f'<optgroup label="{escape(group)}">')
                    parts.extend(_option(option_value, label, chosen) for option_value, label in items)
                    parts.append("</optgroup>")
                else:
                    parts.append(_option(group, items, chosen))
            return "".join(parts)

        if isinstance(self.choices, ZoneChoices) and len(chosen) <= 1:
            listed = self.choices.options_html(next(iter(chosen), ""), options)
        else:
            listed = options()
        head = f'<select name="{escape(name)}"{attrs_html(self.build_attrs(self.attrs, attrs))}>'
        return mark_safe(f"{head}{listed}</select>")  # noqa: S308 (every value is escaped)


def _option(value: Any, label: Any, chosen: set[str]) -> str:
    selected = " selected" if str(value) in chosen else ""
    return f'<option value="{escape(value)}"{selected}>{escape(label)}</option>'


class ConsentSelect(forms.Select):
    """A consent list whose options carry what the picker checks: the person's reference, what the consent allows."""

    def create_option(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(*args, **kwargs)
        record = getattr(option["value"], "instance", None)
        if isinstance(record, ConsentRecord):
            option["attrs"].update(
                {
                    "data-reference": record.subject.reference,
                    "data-kinds": " ".join(record.media_kinds),
                }
            )
        return option


class _ConsentChoices(forms.models.ModelChoiceIterator):
    """The consents of a person slot; an empty slot (``none()``) lists only the empty choice, with no query built."""

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        if self.queryset.query.is_empty():
            if self.field.empty_label is not None:
                yield ("", self.field.empty_label)
            return
        yield from super().__iter__()


class ConsentChoiceField(forms.ModelChoiceField[ConsentRecord]):
    """Valid consents named by person, scope and validity: what an editor needs to pick, never the form."""

    widget = ConsentSelect
    iterator = _ConsentChoices
    default_error_messages = {
        "invalid_choice": gettext_lazy(
            "This consent cannot be used for this post: it is revoked, expired, not verified, or does not "
            "cover the post's platforms, purpose or date. Choose one of the consents offered."
        )
    }

    def label_from_instance(self, obj: ConsentRecord) -> str:
        platforms_shown = _("all platforms") if obj.all_platforms else _labels(ConsentPlatform, obj.platforms)
        if obj.expires_on is not None:
            validity = _("valid until %(date)s") % {"date": formats.date_format(obj.expires_on, "SHORT_DATE_FORMAT")}
        else:
            validity = _("valid until: %(event)s") % {"event": obj.expiry_event}
        return _("%(person)s, signed %(date)s: %(shows)s; %(platforms)s; %(purposes)s; %(validity)s (%(state)s)") % {
            "person": obj.subject.display_name,
            "date": formats.date_format(obj.signed_on, "SHORT_DATE_FORMAT"),
            "shows": _labels(ConsentMediaKind, obj.media_kinds),
            "platforms": platforms_shown,
            "purposes": _labels(ConsentPurpose, obj.purposes),
            "validity": validity,
            "state": obj.get_state_display(),
        }


class SubjectReferenceField(forms.ModelChoiceField[Subject]):
    """A featured person, named by the internal reference the consent office gave the editor."""

    default_error_messages = {"invalid_choice": gettext_lazy("No person is registered with this reference.")}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(queryset=Subject.objects.all(), to_field_name="reference", widget=forms.TextInput, **kwargs)

    def prepare_value(self, value: Any) -> Any:
        # Shown again as the reference the editor typed (or the linked person's), never as an id.
        if isinstance(value, Subject):
            return value.reference
        if isinstance(value, int):
            return Subject.objects.filter(pk=value).values_list("reference", flat=True).first() or ""
        return super().prepare_value(value)


class PostForm(forms.Form):
    """The editor: a post's content, targets, time and media; ``clean`` prepares every service argument."""

    campaign = forms.ModelChoiceField(queryset=Campaign.objects.none(), label=gettext_lazy("Campaign"))
    title = forms.CharField(
        label=gettext_lazy("Internal title"),
        max_length=200,
        required=False,
        help_text=gettext_lazy(
            "Published as the title on YouTube, TikTok and LinkedIn link posts; reviewed like the text."
        ),
    )
    body = forms.CharField(
        label=gettext_lazy("Text"), required=False, max_length=POST_TEXT_MAX, widget=forms.Textarea(attrs={"rows": 8})
    )
    link = forms.CharField(
        label=gettext_lazy("Link"),
        max_length=2000,
        required=False,
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
    )
    hashtags = forms.CharField(
        label=gettext_lazy("Hashtags"),
        required=False,
        max_length=2000,
        help_text=gettext_lazy("Separated by spaces or commas; the # is optional."),
    )
    content_type = forms.ChoiceField(label=gettext_lazy("Content type"), choices=ContentType.choices)
    language = forms.CharField(label=gettext_lazy("Language"), max_length=8, validators=[_LANGUAGE])
    sources = forms.CharField(
        label=gettext_lazy("Sources"),
        required=False,
        max_length=SOURCES_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Citations for medical claims, one per line."),
    )
    targets = forms.ModelMultipleChoiceField(
        queryset=Account.objects.none(),
        required=False,
        label=gettext_lazy("Target accounts"),
        widget=forms.CheckboxSelectMultiple,
    )
    scheduled_date = BoundedDateField(
        label=gettext_lazy("Date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    scheduled_time = forms.TimeField(
        label=gettext_lazy("Time"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    time_zone = forms.ChoiceField(label=gettext_lazy("Time zone"), choices=time_zone_choices, widget=ZoneSelect)
    # Shown once a new time was refused for compressing the open review (`posts.movechecks`).
    compressed_ok = forms.BooleanField(
        label=gettext_lazy("I know the review has less time than its turnarounds"), required=False
    )

    def __init__(
        self, *args: Any, user: User, post: Post | None = None, policy: PostPolicy | None = None, **kwargs: Any
    ) -> None:
        """``policy``: the view's own policy of ``user``, if it has one (its campaign rights are read once)."""
        self.user = user
        self.post = post
        self.policy = policy if policy is not None else PostPolicy(user)
        if post is not None:
            kwargs.setdefault("initial", {}).update(self._initial_from(post))
        super().__init__(*args, **kwargs)
        campaign_field = self.fields["campaign"]
        assert isinstance(campaign_field, forms.ModelChoiceField)
        campaigns = Campaign.objects.filter(pk__in=self.policy.editable_campaign_ids)
        if post is not None:
            # A post stays in its campaign; its services have no way to move it.
            campaigns = Campaign.objects.filter(pk=post.campaign_id)
            campaign_field.disabled = True
        campaign_field.queryset = campaigns.order_by("name")
        if post is not None and Post.campaign.is_cached(post):
            # Its one choice is the campaign already loaded with the post: listed without a query.
            campaign_field.choices = [
                *([("", campaign_field.empty_label)] if campaign_field.empty_label is not None else []),
                (post.campaign_id, campaign_field.label_from_instance(post.campaign)),
            ]
        if not may_declare_crisis(user) and (post is None or post.content_type != ContentType.CRISIS):
            # Editors ask for crisis handling on the post; only Communications or Governance declare it.
            content_type_field = self.fields["content_type"]
            assert isinstance(content_type_field, forms.ChoiceField)
            content_type_field.choices = [choice for choice in ContentType.choices if choice[0] != ContentType.CRISIS]
        self.accounts = list(editor_accounts(post))
        zone_field = self.fields["time_zone"]
        assert isinstance(zone_field, forms.ChoiceField)
        own_zones = [post.time_zone if post is not None else ""]
        own_zones += [account.time_zone for account in self.accounts]
        own_zones.append(getattr(user, "time_zone", ""))
        zone_field.choices = zone_choices_grouped(first=own_zones)
        if post is not None and post.status in RESTART_ASKED:
            self.fields["restart_ok"] = forms.BooleanField(
                label=_("I understand, save the change"),
                required=False,
                help_text=str(RESTART_QUESTIONS[PostStatus(post.status)]),
            )
        self.kept: dict[int, KeptUpload] = {}
        self._accepted: dict[int, tuple[UploadedFile, ProcessedImage, str]] = {}
        targets_field = self.fields["targets"]
        assert isinstance(targets_field, forms.ModelMultipleChoiceField)
        targets_field.queryset = editor_accounts(post)
        for account in self.accounts:
            self.fields[f"override_{account.pk}"] = forms.CharField(
                label=_("Text for %(account)s only") % {"account": account.name},
                required=False,
                max_length=POST_TEXT_MAX,
                widget=forms.Textarea(attrs={"rows": 3}),
                help_text=_("Leave empty to use the post's text."),
            )
        self.existing_media: list[Media] = list(post.media.all()) if post is not None else []
        for media in self.existing_media:
            self.fields[f"media_alt_{media.pk}"] = forms.CharField(
                label=_("Alt text"), max_length=1000, required=False, initial=media.alt_text
            )
            self.fields[f"media_remove_{media.pk}"] = forms.BooleanField(label=_("Remove"), required=False)
            self.fields[f"media_order_{media.pk}"] = forms.IntegerField(
                label=_("Order"), min_value=1, max_value=99, initial=media.position + 1
            )
        self._featured_fields_add(post)
        for slot in range(NEW_MEDIA_SLOTS):
            self.fields[f"new_file_{slot}"] = forms.FileField(
                label=_("Image %(number)s") % {"number": slot + 1},
                required=False,
                widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
            )
            self.fields[f"new_alt_{slot}"] = forms.CharField(
                label=_("Alt text for image %(number)s") % {"number": slot + 1},
                max_length=1000,
                required=False,
                help_text=_("Describe the image for people who cannot see it."),
            )

    def _featured_fields_add(self, post: Post | None) -> None:
        """Add a few rows of "who does this post show, with which consent, showing what"."""
        # ``.all()``: the people the page loaded with the post (posts.selectors.post_for_page), if it did.
        featured = list(post.featured_people.all()) if post is not None else []
        self.linked = {(person.subject_id, person.consent_id) for person in featured}
        linked_ids = [person.consent_id for person in featured if person.consent_id]
        data: Mapping[str, Any] = self.data if self.is_bound else self.initial
        campaigns = Campaign.objects.filter(pk__in=self.policy.editable_campaign_ids)
        if post is not None:
            campaigns = Campaign.objects.filter(pk=post.campaign_id)
        self.scope = picker_scope(data, accounts=self.accounts, campaigns=campaigns, post=post)
        # Each row lists only what it needs (its chosen consent, its person's usable ones, what its
        # search found), never the registry: the rest is found by searching (consent_options_view).
        chosen_ids: list[str] = []
        references: list[str] = []
        for slot in range(FEATURED_SLOTS):
            person = featured[slot] if slot < len(featured) else None
            if self.is_bound:
                chosen_ids.append(str(self.data.get(f"featured_consent_{slot}") or ""))
                references.append(str(self.data.get(f"featured_subject_{slot}") or "").strip())
            else:
                chosen_ids.append(str(person.consent_id or "") if person is not None else "")
                references.append(person.subject.reference if person is not None else "")
        asked_ids = [int(chosen) for chosen in chosen_ids if chosen.isdigit()]
        asked_references = [reference for reference in references if reference]
        needed = (
            consents_offered(
                at=self.scope.at,
                platforms=self.scope.platforms,
                purpose=self.scope.purpose,
                ids=asked_ids,
                references=asked_references,
            )
            if asked_ids or asked_references
            else []
        )
        self.consent_searches = self._consent_searches()
        for slot in range(FEATURED_SLOTS):
            person = featured[slot] if slot < len(featured) else None
            self.fields[f"featured_subject_{slot}"] = SubjectReferenceField(
                required=False,
                label=_("Reference of person %(number)s") % {"number": slot + 1},
                help_text=_("The internal reference the consent office gave you, e.g. a case number."),
                initial=person.subject.reference if person else None,
            )
            chosen = chosen_ids[slot]
            found = self.consent_searches.get(slot, [])
            mine = [
                record.pk
                for record in needed
                if str(record.pk) == chosen or (references[slot] and record.subject.reference == references[slot])
            ]
            valid_ids = list(dict.fromkeys([*mine, *(record.pk for record in found)]))
            # A consent this post already links stays listed (only) where it is chosen, whatever its
            # state: saving must not silently unlink it; the consent gate blocks the post and says why.
            kept = [int(chosen)] if chosen.isdigit() and int(chosen) in linked_ids else []
            # Without a When, Case() is a bare constant, which PostgreSQL reads as "ORDER BY 0" (a column
            # position) and refuses.
            ranks = [models.When(pk=pk, then=index) for index, pk in enumerate(valid_ids)]
            order = [models.Case(*ranks, default=len(valid_ids))] if ranks else []
            records = ConsentRecord.objects.filter(pk__in=[*valid_ids, *kept]).select_related("subject")
            # An empty slot lists nothing: an empty queryset (none()) is not even compiled when listed.
            records = records.order_by(*order, "pk") if valid_ids or kept else ConsentRecord.objects.none()
            self.fields[f"featured_consent_{slot}"] = ConsentChoiceField(
                queryset=records,
                required=False,
                label=_("Consent of person %(number)s") % {"number": slot + 1},
                initial=person.consent_id if person else None,
            )
            self.fields[f"featured_kinds_{slot}"] = forms.MultipleChoiceField(
                choices=ConsentMediaKind.choices,
                required=False,
                widget=forms.CheckboxSelectMultiple,
                label=_("What the post shows of person %(number)s") % {"number": slot + 1},
                initial=person.media_kinds if person else [],
            )

    def consent_search(self, slot: int) -> str:
        """Return what the editor typed into row ``slot``'s consent search (sent by the search button)."""
        if not self.is_bound:
            return ""
        return str(self.data.get(f"consent_search_{slot}") or "").strip()[:CONSENT_SEARCH_MAX]

    def searched_slot(self) -> int | None:
        """Return the row whose "Search" button sent the form (a search, not a save), else None."""
        slot = _int(str(self.data.get("consent_find") or ""), -1) if self.is_bound else -1
        return slot if 0 <= slot < FEATURED_SLOTS else None

    def _consent_searches(self) -> dict[int, list[ConsentRecord]]:
        # Without scripts a row finds consents through the form itself: a search re-renders the page.
        found: dict[int, list[ConsentRecord]] = {}
        searched = self.searched_slot()
        for slot in range(FEATURED_SLOTS):
            words = self.consent_search(slot).split()
            # An empty search asked for by its button lists the first usable consents.
            if words or slot == searched:
                found[slot] = consents_offered(
                    at=self.scope.at,
                    platforms=self.scope.platforms,
                    purpose=self.scope.purpose,
                    words=words,
                    limit=CONSENT_OPTIONS_MAX,
                )
        return found

    def search_only(self) -> None:
        """Check the input as a save would (the images it accepts are kept), then drop its errors: nothing is saved."""
        self.full_clean()
        self.errors.clear()

    def featured_rows(self) -> list[FeaturedRow]:
        """Return the person slots; those after the first empty one are marked ``extra``."""
        rows: list[FeaturedRow] = []
        empty_seen = False
        for slot in range(FEATURED_SLOTS):
            subject, consent, kinds = (self[f"featured_{part}_{slot}"] for part in ("subject", "consent", "kinds"))
            filled = any(field.value() or field.errors for field in (subject, consent, kinds))
            search = self.consent_search(slot)
            filled = filled or bool(search)
            rows.append(FeaturedRow(slot, subject, consent, kinds, search, extra=not filled and empty_seen))
            empty_seen = empty_seen or not filled
        return rows

    def _clean_featured(self, cleaned: dict[str, Any]) -> None:
        specs: list[FeatureSpec] = []
        seen: set[int] = set()
        for slot in range(FEATURED_SLOTS):
            subject = cleaned.get(f"featured_subject_{slot}")
            record = cleaned.get(f"featured_consent_{slot}")
            kinds = tuple(cleaned.get(f"featured_kinds_{slot}") or ())
            if subject is None:
                if record is not None or kinds:
                    self.add_error(f"featured_subject_{slot}", _("Choose the person this consent and content are for."))
                continue
            if subject.pk in seen:
                self.add_error(f"featured_subject_{slot}", _("This person is listed twice."))
                continue
            seen.add(subject.pk)
            if record is not None and record.subject_id != subject.pk:
                self.add_error(f"featured_consent_{slot}", _("This consent belongs to someone else."))
                continue
            if not kinds:
                self.add_error(f"featured_kinds_{slot}", _("Say what the post shows of this person."))
                continue
            if record is not None and (subject.pk, record.pk) not in self.linked:
                # A newly linked consent must pass the gate the post will meet (a linked one is
                # kept as it is: the gate blocks the post and says why).
                problems = record_problems(
                    record=record,
                    feature=Feature(subject.pk, record.pk, frozenset(kinds)),
                    platforms=self.scope.platforms,
                    purpose=self.scope.purpose or "",
                    at=cleaned.get("scheduled_at") or self.scope.at,
                )
                if problems:
                    self.add_error(f"featured_consent_{slot}", [problem.message for problem in problems])
                    continue
            specs.append(FeatureSpec(subject=subject, consent=record, media_kinds=kinds))
        cleaned["featured_specs"] = specs

    @staticmethod
    def _initial_from(post: Post) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "campaign": post.campaign_id,
            "title": post.title,
            "body": post.body,
            "link": post.link,
            "hashtags": hashtags_text(post.hashtags),
            "content_type": post.content_type,
            "language": post.language,
            "sources": post.sources,
            "time_zone": post.time_zone,
            "targets": [target.account_id for target in post.targets.all()],
        }
        for target in post.targets.all():
            initial[f"override_{target.account_id}"] = target.body_override
        if post.scheduled_at is not None:
            local = post.scheduled_at.astimezone(zoneinfo.ZoneInfo(post.time_zone))
            initial["scheduled_date"] = local.date()
            initial["scheduled_time"] = local.time().replace(second=0, microsecond=0)
        return initial

    # Pieces the template lays out ------------------------------------------------------------

    def asks_move_confirm(self) -> bool:
        """Whether the editor is asked to confirm the new time (it was refused, or they ticked the box)."""
        refused = self.is_bound and any(
            error.code == MOVE_CONFIRM for error in self.errors.as_data().get("scheduled_time", [])
        )
        return refused or bool(self.is_bound and self.data.get("compressed_ok"))

    def target_groups(self) -> list[tuple[str, list[TargetRow]]]:
        """Return the target rows grouped by platform, in the accounts' order."""
        if self.is_bound:
            checked = set(_getlist(self.data, "targets"))
        else:
            checked = {str(pk) for pk in self.initial.get("targets", [])}
        groups: dict[str, list[TargetRow]] = {}
        for account in self.accounts:
            row = TargetRow(account, str(account.pk) in checked, self[f"override_{account.pk}"])
            groups.setdefault(account.get_platform_display(), []).append(row)
        return list(groups.items())

    def media_rows(self) -> list[MediaRow]:
        return [
            MediaRow(
                media=media,
                thumbnail_url=_thumbnail_url(media),
                alt_text=self[f"media_alt_{media.pk}"],
                remove=self[f"media_remove_{media.pk}"],
                order=self[f"media_order_{media.pk}"],
                check=check,
            )
            for media, check in zip(self.existing_media, scan_states(self.existing_media), strict=True)
        ]

    def upload_slots(self) -> list[UploadSlot]:
        """Return the image slots; those after the first empty one are marked ``extra``."""
        slots: list[UploadSlot] = []
        empty_seen = False
        for slot in range(NEW_MEDIA_SLOTS):
            file, alt_text = self[f"new_file_{slot}"], self[f"new_alt_{slot}"]
            kept = self.kept.get(slot)
            filled = kept is not None or bool(file.errors or alt_text.errors or alt_text.value())
            slots.append(UploadSlot(slot, file, alt_text, kept, extra=not filled and empty_seen))
            empty_seen = empty_seen or not filled
        return slots

    def restart_asked(self) -> bool:
        return "restart_ok" in self.fields

    def uploads_keep(self) -> None:
        """Keep the images of this refused save that the media pipeline accepted, to show them again."""
        user_id = self.user.pk
        for slot in range(NEW_MEDIA_SLOTS):
            accepted = self._accepted.get(slot)
            if accepted is not None:
                upload, image, token = accepted
                kept = pending_find(token=token, user_id=user_id) if token else None
                self.kept[slot] = kept or pending_keep(user_id=user_id, upload=upload, image=image)
                continue
            token = str(self.data.get(f"kept_{slot}", ""))
            if not token:
                continue
            if self.data.get(f"kept_remove_{slot}") or self.files.get(f"new_file_{slot}"):
                pending_discard(token=token, user_id=user_id)
                continue
            kept = pending_find(token=token, user_id=user_id)
            if kept is not None:
                self.kept[slot] = kept

    def uploads_saved(self) -> None:
        """Delete the kept images this save used or the person removed."""
        for slot in range(NEW_MEDIA_SLOTS):
            token = str(self.data.get(f"kept_{slot}", ""))
            if token:
                pending_discard(token=token, user_id=self.user.pk)

    def draft(self, files: Iterable[str] = ()) -> Draft:
        """Return what the form currently holds, for findings and previews."""
        if self.is_bound:
            data = self.data.copy() if isinstance(self.data, QueryDict) else dict(self.data)
            for slot, (_upload, image, _token) in self._accepted.items():
                # The pipeline read these images (new or kept): the findings see them as they will be stored.
                data[f"new_media_{slot}_format"] = image.format
                data[f"new_media_{slot}_width"] = str(image.width)
                data[f"new_media_{slot}_height"] = str(image.height)
                data[f"new_media_{slot}_size"] = str(image.byte_size)
            return draft_from_data(data, accounts=self.accounts, existing_media=self.existing_media, uploads=files)
        if self.post is not None:
            return draft_from_post(self.post)
        return Draft(title="", body="", link="", hashtags=[], targets=[], media=[])

    # Checks ----------------------------------------------------------------------------------

    def clean_link(self) -> str:
        return link_clean(self.cleaned_data.get("link", ""))

    def clean_hashtags(self) -> list[str]:
        return hashtags_clean(self.cleaned_data.get("hashtags", ""))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        self._clean_schedule(cleaned)
        cleaned["target_specs"] = target_specs_of(cleaned)
        self._clean_existing_media(cleaned)
        self._clean_uploads(cleaned)
        self._clean_featured(cleaned)
        return cleaned

    def _clean_schedule(self, cleaned: dict[str, Any]) -> None:
        day, time, zone = cleaned.get("scheduled_date"), cleaned.get("scheduled_time"), cleaned.get("time_zone")
        cleaned["scheduled_at"] = None
        if "scheduled_date" in self.errors or "scheduled_time" in self.errors or not zone:
            return
        if day is None and time is None:
            if self.post is not None and self.post.scheduled_at is not None:
                self.add_error("scheduled_date", _("This post has a date and time; change them, not clear them."))
            return
        if day is None:
            self.add_error("scheduled_date", _("Give a date for this time."))
            return
        if time is None:
            self.add_error("scheduled_time", _("Give a time for this date."))
            return
        try:
            cleaned["scheduled_at"] = aware_from_local(day, time, zone)
        except ValidationError as error:
            self.add_error("scheduled_time", error)

    def _clean_existing_media(self, cleaned: dict[str, Any]) -> None:
        removals: list[int] = []
        alt_texts: dict[int, str] = {}
        order: list[tuple[int, int, int]] = []
        for index, media in enumerate(self.existing_media):
            if cleaned.get(f"media_remove_{media.pk}"):
                removals.append(media.pk)
                continue
            alt_text = (cleaned.get(f"media_alt_{media.pk}") or "").strip()
            if not alt_text and f"media_alt_{media.pk}" not in self.errors:
                self.add_error(f"media_alt_{media.pk}", _("Every image needs alt text."))
            alt_texts[media.pk] = alt_text
            order.append((cleaned.get(f"media_order_{media.pk}") or media.position + 1, index, media.pk))
        cleaned["media_remove"] = removals
        cleaned["media_alt_texts"] = alt_texts
        cleaned["media_order"] = [pk for _position, _index, pk in sorted(order)]

    def _clean_uploads(self, cleaned: dict[str, Any]) -> None:
        new_media: list[NewMedia] = []
        cleaned["new_media"] = new_media
        uploads: dict[int, tuple[UploadedFile, str]] = {}
        for slot in range(NEW_MEDIA_SLOTS):
            chosen = cleaned.get(f"new_file_{slot}")
            token = str(self.data.get(f"kept_{slot}", ""))
            if chosen:
                uploads[slot] = (chosen, "")
            elif token and not self.data.get(f"kept_remove_{slot}"):
                kept = pending_file(token=token, user_id=self.user.pk)
                if kept is None:
                    self.add_error(
                        f"new_file_{slot}", _("The image kept from your last try is no longer there: choose it again.")
                    )
                    continue
                uploads[slot] = (kept, token)
        sent = len(uploads)
        limit = settings.ROUNDS_MAX_MEDIA_PER_REQUEST
        if sent > limit:
            # Refused before any is decoded: each may take the whole decode budget.
            self.add_error(
                None,
                ngettext(
                    "You can add at most %(limit)d image at a time; you chose %(count)d. Add the others afterwards.",
                    "You can add at most %(limit)d images at a time; you chose %(count)d. Add the others afterwards.",
                    limit,
                )
                % {"limit": limit, "count": sent},
            )
            return
        for slot, (upload, token) in uploads.items():
            alt_text = (cleaned.get(f"new_alt_{slot}") or "").strip()
            if not alt_text and f"new_alt_{slot}" not in self.errors:
                self.add_error(f"new_alt_{slot}", _("Every image needs alt text: describe this image."))
            try:
                # A kept image is checked again like a new one: keeping it skips no rule.
                image = image_process(upload=upload)
            except ValidationError as error:
                self.add_error(f"new_file_{slot}", error)
                continue
            self._accepted[slot] = (upload, image, token)
            if alt_text:
                new_media.append(NewMedia(image=image, alt_text=alt_text))

    def content_data(self) -> dict[str, Any]:
        """Return the content fields for post_create/post_update."""
        fields = ("title", "body", "link", "hashtags", "content_type", "language", "sources")
        return {field: self.cleaned_data[field] for field in fields}


def target_specs_of(cleaned: Mapping[str, Any]) -> list[TargetSpec]:
    """Return the service's targets of the editor's cleaned input: each ticked account with its own text."""
    return [
        TargetSpec(account=account, body_override=(cleaned.get(f"override_{account.pk}") or "").strip())
        for account in cleaned.get("targets") or []
    ]


# After a refused stale save -------------------------------------------------------------------

# The editor's fields a colleague's change is taken into when this user left them as they were
# (a revision's snapshot holds each; the title from snapshot format 2). The target accounts with
# their own texts are merged as one field too. Media and people are not merged, nor the time (a
# snapshot does not hold it): for those the notice's list of changes is all there is, and the
# user's input stands.
MERGED_FIELDS: Final = ("title", "body", "link", "hashtags", "sources", "content_type", "language")


@dataclass(frozen=True)
class StaleMerge:
    """What a refused stale save did to the form: fields that took the colleague's change, fields both changed."""

    taken: tuple[str, ...]
    both: tuple[str, ...]


def _same(one: object, other: object) -> bool:
    if isinstance(one, str) and isinstance(other, str):  # a browser sends a textarea's lines with CRLF
        return one.replace("\r\n", "\n") == other.replace("\r\n", "\n")
    return one == other


def stale_merge(form: PostForm, *, post_pk: int, opened: int | None) -> tuple[int | None, StaleMerge | None]:
    """Take a colleague's change into each field of the valid ``form`` its user left as it was.

    ``opened`` is the revision the form was opened on. A field the colleague changed since then
    and this user did not now shows the colleague's value, so "Save again" stores both changes
    instead of writing the opened value back over the colleague's; a field both changed keeps
    this user's value. Returns the post's current revision (the form's new starting point) and
    what was merged (None when the opened revision is unknown: nothing is merged).
    """
    current_id, theirs = Post.objects.filter(pk=post_pk).values_list("current_revision", "current_revision__content")[0]
    base = (
        Revision.objects.filter(pk=opened, post_id=post_pk).values_list("content", flat=True).first()
        if opened
        else None
    )
    if base is None or theirs is None:
        return current_id, None
    taken: list[str] = []
    both: list[str] = []
    # A copy to change: a bound form's data is the request's (immutable) QueryDict.
    data = form.data.copy() if isinstance(form.data, QueryDict) else dict(form.data)
    for name in MERGED_FIELDS:
        if name not in base or name not in theirs or name not in form.cleaned_data:
            continue
        old, new, mine = base[name], theirs[name], form.cleaned_data[name]
        if _same(old, new) or _same(mine, new):
            continue
        label = str(form.fields[name].label)
        if _same(mine, old):
            form.cleaned_data[name] = new
            data[name] = hashtags_text(new) if name == "hashtags" else new
            taken.append(label)
        else:
            both.append(label)
    _merge_targets(form, data, base=base, theirs=theirs, taken=taken, both=both)
    form.data = data
    return current_id, StaleMerge(taken=tuple(taken), both=tuple(both))


def _snapshot_targets(content: dict[str, Any]) -> dict[int, str]:
    return {int(target["account_id"]): target.get("body_override") or "" for target in content.get("targets") or []}


def _same_targets(one: dict[int, str], other: dict[int, str]) -> bool:
    return one.keys() == other.keys() and all(_same(text, other[pk]) for pk, text in one.items())


def _merge_targets(
    form: PostForm, data: Any, *, base: dict[str, Any], theirs: dict[str, Any], taken: list[str], both: list[str]
) -> None:
    """Merge the target accounts and their own texts as one field, as ``stale_merge`` does each text field."""
    if "targets" not in base or "targets" not in theirs or "targets" not in form.cleaned_data:
        return
    accounts = {account.pk: account for account in form.accounts}
    old, new = _snapshot_targets(base), _snapshot_targets(theirs)
    mine = {
        account.pk: (form.cleaned_data.get(f"override_{account.pk}") or "").strip()
        for account in form.cleaned_data["targets"]
    }
    if _same_targets(old, new) or _same_targets(mine, new):
        return
    label = str(form.fields["targets"].label)
    if not _same_targets(mine, old):
        both.append(label)
        return
    if not new.keys() <= accounts.keys():
        return  # an account the editor no longer offers (switched off since) cannot be ticked: the user's stands
    chosen = [accounts[pk] for pk in accounts if pk in new]
    if isinstance(data, QueryDict):
        data.setlist("targets", [str(account.pk) for account in chosen])
    else:
        data["targets"] = [str(account.pk) for account in chosen]
    for pk, text in new.items():
        data[f"override_{pk}"] = text
        form.cleaned_data[f"override_{pk}"] = text
    form.cleaned_data["targets"] = chosen
    form.cleaned_data["target_specs"] = target_specs_of(form.cleaned_data)
    taken.append(label)


# Campaigns ------------------------------------------------------------------------------------


class CampaignForm(forms.Form):
    """A campaign's fields and people, for campaign_create and campaign_update."""

    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    goal = forms.CharField(label=gettext_lazy("Goal"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    start_date = BoundedDateField(
        label=gettext_lazy("Start date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    end_date = BoundedDateField(
        label=gettext_lazy("End date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    colour = forms.CharField(
        label=gettext_lazy("Colour"),
        max_length=7,
        initial="#2563eb",
        validators=[colour_validator],
        widget=forms.TextInput(attrs={"type": "color"}),
    )
    hashtags = forms.CharField(
        label=gettext_lazy("Hashtags"),
        required=False,
        max_length=2000,
        help_text=gettext_lazy("Separated by spaces or commas; the # is optional."),
    )
    purpose = forms.ChoiceField(
        label=gettext_lazy("Purpose"),
        choices=Purpose.choices,
        help_text=gettext_lazy(
            "Consent is checked for this purpose. Changing it restarts the review of the campaign's posts "
            "that are not out yet."
        ),
    )
    team = forms.ModelMultipleChoiceField(
        queryset=User.objects.none(),
        required=False,
        label=gettext_lazy("Team"),
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("People who may see and edit this campaign's posts."),
    )
    reviewers = forms.ModelMultipleChoiceField(
        queryset=User.objects.none(),
        required=False,
        label=gettext_lazy("Assigned reviewers"),
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Reviewers who may see and decide on this campaign's posts."),
    )

    def __init__(self, *args: Any, campaign: Campaign | None = None, may_set_team: bool = True, **kwargs: Any) -> None:
        if campaign is not None:
            kwargs.setdefault("initial", {}).update(
                {
                    "name": campaign.name,
                    "goal": campaign.goal,
                    "start_date": campaign.start_date,
                    "end_date": campaign.end_date,
                    "colour": campaign.colour,
                    "hashtags": hashtags_text(campaign.hashtags),
                    "purpose": campaign.purpose,
                    "team": [user.pk for user in campaign.team.all()],
                    "reviewers": [user.pk for user in campaign.reviewers.all()],
                }
            )
        super().__init__(*args, **kwargs)
        # Only the owner and Governance choose who sees the campaign (posts.policy.CampaignPolicy).
        if may_set_team:
            self.fields["team"].queryset = campaign_team_candidates()  # type: ignore[attr-defined]
            self.fields["reviewers"].queryset = campaign_reviewer_candidates()  # type: ignore[attr-defined]
        else:
            del self.fields["team"], self.fields["reviewers"]

    def people(self) -> dict[str, Any]:
        """Return the team and reviewers chosen, as service arguments (none if the form does not set them)."""
        return {name: self.cleaned_data[name] for name in ("team", "reviewers") if name in self.fields}

    def clean_name(self) -> str:
        return str(self.cleaned_data["name"]).strip()

    def clean_hashtags(self) -> list[str]:
        return hashtags_clean(self.cleaned_data.get("hashtags", ""))

    def clean_colour(self) -> str:
        return str(self.cleaned_data["colour"]).lower()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("The end date cannot be before the start date."))
        return cleaned

    def campaign_data(self) -> dict[str, Any]:
        fields = ("name", "goal", "start_date", "end_date", "colour", "hashtags", "purpose")
        return {field: self.cleaned_data[field] for field in fields}


class CampaignPostsFilterForm(forms.Form):
    """Narrow a campaign's posts to one state and one month (of their planned time)."""

    state = forms.ChoiceField(label=gettext_lazy("State"), required=False)
    month = forms.DateField(
        label=gettext_lazy("Month"),
        required=False,
        input_formats=["%Y-%m"],
        validators=[date_in_range],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
        help_text=gettext_lazy("Year and month, e.g. 2026-03."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        state = self.fields["state"]
        assert isinstance(state, forms.ChoiceField)
        state.choices = [("", gettext_lazy("Any state")), *PostStatus.choices]
