"""The connectors' error messages: stored in English on attempts and publications, shown translated.

Adapters raise errors with ``MESSAGE.english(...)`` (plain text, no ORM, no active language);
`core.i18n.message_display` finds the message again in the stored text and shows it in the
reader's language with its fields put back. A platform's own words (``%(message)s``) stay as sent.
"""

from django.utils.translation import gettext_noop

from core.i18n import StoredMessage

HTTP_STATUS = StoredMessage(gettext_noop("HTTP %(status)s: %(message)s"))
REQUEST_NOT_SENT = StoredMessage(gettext_noop("could not send the request: %(error)s"))
NO_ANSWER_REPEATABLE = StoredMessage(gettext_noop("no answer to a repeatable request: %(error)s"))
MEDIA_NEEDS_PUBLIC_URL = StoredMessage(
    gettext_noop(
        "%(platform)s fetches media from a public URL: set the credential 'media_base_url' "
        "to the public address of the media folder"
    )
)
FILE_NOT_IN_MEDIA = StoredMessage(gettext_noop("the file %(name)s is not in the media folder"))
EXISTENCE_UNKNOWN = StoredMessage(gettext_noop("cannot tell whether the post exists: %(error)s"))
MEDIA_UNREADABLE = StoredMessage(gettext_noop("cannot read the media file %(name)s: %(error)s"))
VIDEO_UNREADABLE = StoredMessage(gettext_noop("cannot read the video %(name)s: %(error)s"))
NO_VIDEOS_FACEBOOK = StoredMessage(
    gettext_noop("this Facebook client posts text, links and images; upload videos by hand")
)
NO_VIDEOS_LINKEDIN = StoredMessage(
    gettext_noop("this LinkedIn client posts text, links and images; upload videos by hand")
)
NO_VIDEOS_X = StoredMessage(gettext_noop("this X client posts text and images; upload videos by hand"))
ANSWER_WITHOUT_ID = StoredMessage(gettext_noop("%(platform)s answered without a post id"))
UPLOAD_WITHOUT_ID = StoredMessage(gettext_noop("%(platform)s answered a media upload without an id"))
NO_UPLOAD_URL = StoredMessage(gettext_noop("%(platform)s did not return an upload URL"))
INSTAGRAM_NEEDS_MEDIA = StoredMessage(gettext_noop("Instagram needs at least one image or video"))
INSTAGRAM_NOT_PROCESSED = StoredMessage(gettext_noop("Instagram could not process the media: %(status)s"))
INSTAGRAM_CONTAINER_WAITING = StoredMessage(gettext_noop("the Instagram container is %(status)s; trying again later"))
TIKTOK_ONE_VIDEO = StoredMessage(gettext_noop("TikTok takes one video, or photos only"))
TIKTOK_PRIVACY = StoredMessage(gettext_noop("this TikTok creator may not post as %(wanted)s; allowed: %(allowed)s"))
TIKTOK_UPLOAD_INCOMPLETE = StoredMessage(gettext_noop("the upload did not complete; nothing was posted"))
TIKTOK_COULD_NOT_POST = StoredMessage(gettext_noop("TikTok could not post it (%(reason)s)"))
TIKTOK_REFUSED = StoredMessage(gettext_noop("TikTok refused the post (%(reason)s)"))
TIKTOK_MODERATION = StoredMessage(
    gettext_noop(
        "cannot tell: TikTok lists a post only after moderation, which can take hours; "
        "a person should check the account before publishing again"
    )
)
YOUTUBE_ONE_VIDEO = StoredMessage(gettext_noop("YouTube takes exactly one video per post"))
YOUTUBE_NO_PLAYLIST = StoredMessage(
    gettext_noop("cannot tell whether the post exists: the channel has no uploads playlist")
)
TEXT_TOO_LONG_FOR_MARKER = StoredMessage(
    gettext_noop(
        "the text leaves no room for the %(count)s invisible characters Rounds adds to find "
        "the post again; shorten it by %(over)s"
    )
)
OUTBOX_UNWRITABLE = StoredMessage(gettext_noop("could not write to the outbox: %(error)s"))
WEBHOOK_CREDENTIALS = StoredMessage(
    gettext_noop("the webhook account needs credentials 'url' (http or https) and 'secret'")
)
