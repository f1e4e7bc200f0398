from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import FileResponse, Http404, JsonResponse
from django.views.decorators.http import require_GET

from people.http import AuthedHttpRequest
from posts.models import LinkCard, LinkCardStatus, Media
from posts.pending import pending_thumbnail_path
from posts.scans import scan_states
from posts.selectors import posts_for_user

# Only what the media pipeline writes; anything else under MEDIA_ROOT is never served.
SERVED_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


@require_GET
@login_required
def media_serve(request: AuthedHttpRequest, path: str) -> FileResponse:
    """Serve a post image to someone who may see its post, never sniffable as anything else."""
    extension = path.rsplit(".", 1)[-1].lower()
    if extension not in SERVED_TYPES:
        raise Http404
    media = (
        Media.objects.filter(Q(file=path) | Q(thumbnail=path))
        .filter(post__in=posts_for_user(user=request.user).values("pk"))
        .first()
    )
    if media is None:
        raise Http404
    field = media.file if media.file.name == path else media.thumbnail
    try:
        handle = field.storage.open(field.name, "rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(handle, content_type=SERVED_TYPES[extension])
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _image_type(head: bytes) -> str:
    if head.startswith(b"\x89PNG"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return "image/jpeg"


@require_GET
@login_required
def pending_thumbnail_serve(request: AuthedHttpRequest, token: str) -> FileResponse:
    """Serve the thumbnail of an image kept from a refused form, only to the person who chose it."""
    path = pending_thumbnail_path(token=token, user_id=request.user.pk)
    if path is None:
        raise Http404
    handle = path.open("rb")
    content_type = _image_type(handle.read(12))
    handle.seek(0)
    response = FileResponse(handle, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@require_GET
@login_required
def linkcard_image_serve(request: AuthedHttpRequest, pk: int) -> FileResponse:
    """Serve a link card's image thumbnail: a public page's image, re-encoded, to anyone signed in."""
    card = LinkCard.objects.filter(pk=pk, status=LinkCardStatus.OK).exclude(image="").first()
    if card is None:
        raise Http404
    extension = card.image.name.rsplit(".", 1)[-1].lower()
    if extension not in SERVED_TYPES:
        raise Http404
    try:
        handle = card.image.storage.open(card.image.name, "rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(handle, content_type=SERVED_TYPES[extension])
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@require_GET
@login_required
def media_checks_view(request: AuthedHttpRequest, pk: int) -> JsonResponse:
    """The state of each image check of a post the user may see (the editor asks until all are finished)."""
    post = posts_for_user(user=request.user).filter(pk=pk).first()
    if post is None:
        raise Http404
    media = list(Media.objects.filter(post=post).select_related("scan").order_by("position", "pk"))
    response = JsonResponse({"checks": [state.as_json() for state in scan_states(media)]})
    response["Cache-Control"] = "no-store"
    return response
