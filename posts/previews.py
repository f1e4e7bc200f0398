"""What each target account of a draft will show: the composed text, its length and findings."""

from dataclasses import dataclass

from posts import platforms
from posts.forms import Draft
from posts.models import Account


@dataclass(frozen=True)
class TargetPreview:
    """One target account's text as it will go out, its length, findings and preview pieces."""

    account: Account
    override: str
    text: str
    length: int
    limit: int | None
    findings: list[platforms.Finding]
    thumbnail_url: str
    thumbnail_alt: str
    media_count: int
    link: str

    @property
    def over_limit(self) -> bool:
        return self.limit is not None and self.length > self.limit

    @property
    def has_errors(self) -> bool:
        return platforms.has_errors(self.findings)


def target_previews(draft: Draft) -> list[TargetPreview]:
    """Return, per target of the draft, the composed text, its count against the limit and the findings."""
    media = [item.info for item in draft.media]
    first = draft.media[0] if draft.media else None
    previews = []
    for account, override in draft.targets:
        platform = account.platform
        body = override or draft.body
        text = platforms.compose_text(body=body, link=draft.link, hashtags=draft.hashtags, platform=platform)
        rules = platforms.rules_for(platform)
        previews.append(
            TargetPreview(
                account=account,
                override=override,
                text=text,
                length=platforms.text_length(text, platform),
                limit=rules.text_limit,
                findings=platforms.findings_for_target(
                    platform=platform,
                    body=body,
                    link=draft.link,
                    hashtags=draft.hashtags,
                    media=media,
                    title=draft.title,
                ),
                thumbnail_url=first.thumbnail_url if first else "",
                thumbnail_alt=first.info.alt_text if first else "",
                media_count=len(draft.media),
                link=draft.link if rules.links_clickable else "",
            )
        )
    return previews
