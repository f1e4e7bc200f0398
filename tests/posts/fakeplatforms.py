"""Local fake platforms: a small real HTTP server per platform API the connectors speak, with faults.

Each fake listens on 127.0.0.1 on a free port, in a thread, and implements just the endpoints its
connector uses, answering in the platform's own JSON shapes. It checks what the platform checks
(a bearer token; LinkedIn's version and protocol headers) and answers 4xx without them. Every
request is recorded, and every post the platform would show is kept in ``created`` (deleted or
not), so tests can assert that nothing was posted twice (``duplicates()``).

``fail_next(step, *modes)`` queues the behaviour of the next requests of one step (each fake
names its steps, e.g. "feed", "publish", "upload"):

- ``ok``: the normal answer
- ``500``: the platform's server error, nothing done
- ``429``: the platform's rate-limit answer (with its reset signal), nothing done
- ``400``: the platform's refusal, with its message, nothing done
- ``timeout``: done, then the answer comes only after ``hang_seconds`` (longer than the client waits)
- ``drop``: done, then the connection closes without an answer
- ``reset``: not done, and the connection closes without an answer (a proxy gave up)
- ``slow``: done, answered after ``slow_seconds`` (late, but within the client's timeout)
"""

import base64
import datetime as dt
import email.parser
import email.policy
import itertools
import json
import re
import threading
import time
import urllib.parse
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

from tests.posts.fakeplatform import server_start, server_stop

# "echo": a careless platform that refuses with the request's Authorization header in its message.
MODES = frozenset({"ok", "500", "429", "400", "timeout", "drop", "reset", "slow", "echo"})
TOKEN = "fake-token"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names in lower case
    body: bytes
    at: float

    def json(self) -> dict[str, Any]:
        return json.loads(self.body or b"{}")

    def form(self) -> dict[str, str]:
        return dict(urllib.parse.parse_qsl(self.body.decode()))

    def multipart(self) -> tuple[dict[str, str], dict[str, bytes]]:
        """Return the text fields and the files of a multipart/form-data body."""
        head = f"Content-Type: {self.headers.get('content-type', '')}\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + self.body)
        fields: dict[str, str] = {}
        files: dict[str, bytes] = {}
        for part in message.iter_parts():
            name = str(part.get_param("name", header="content-disposition"))
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            if part.get_filename():
                files[name] = payload
            else:
                fields[name] = payload.decode()
        return fields, files


@dataclass
class Reply:
    status: int
    body: Any = None  # a dict is sent as JSON, bytes as they are, None as nothing
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakePost:
    """A post the platform shows (until deleted)."""

    id: str
    text: str
    url: str = ""
    media: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[Request, "re.Match[str]"], Reply | None]  # None: close without answering


class FakeApi:
    """The server, the fault queue and the records; subclasses add a platform's routes and words."""

    prefix: ClassVar[str] = ""

    def __init__(self, *, hang_seconds: float = 1.5, slow_seconds: float = 0.2, reset_in: float = 90.0) -> None:
        self.hang_seconds = hang_seconds
        self.slow_seconds = slow_seconds
        self.reset_in = reset_in
        self.requests: list[Request] = []
        self.created: list[FakePost] = []
        self.live: dict[str, FakePost] = {}
        self.deleted: list[str] = []
        self._faults: dict[str, deque[str]] = {}
        self._numbers = itertools.count(1001)
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._routes = [
            (method, re.compile(pattern), step, handler) for method, pattern, step, handler in self.routes()
        ]

    # Control ---------------------------------------------------------------------------------

    def start(self) -> "FakeApi":
        fake = self

        class Bound(_Handler):
            api = fake

        self._server = server_start(Bound)
        return self

    def stop(self) -> None:
        server_stop(self._server)
        self._server = None

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start the server first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_base(self) -> str:
        return self.base_url + self.prefix

    def credentials(self) -> dict[str, str]:
        raise NotImplementedError

    def fail_next(self, step: str, *modes: str) -> None:
        unknown = set(modes) - MODES
        if unknown:
            raise ValueError(f"unknown modes {unknown}")
        with self._lock:
            self._faults.setdefault(step, deque()).extend(modes)

    # What happened ---------------------------------------------------------------------------

    def texts(self) -> list[str]:
        with self._lock:
            return [post.text for post in self.created]

    def duplicates(self) -> dict[str, int]:
        """Return the texts (each carries its publication's marker) posted more than once."""
        counts: dict[str, int] = {}
        for text in self.texts():
            counts[text] = counts.get(text, 0) + 1
        return {text: count for text, count in counts.items() if count > 1}

    def calls(self, method: str, pattern: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.method == method and re.fullmatch(self.prefix + pattern, r.path)]

    # Platform side ---------------------------------------------------------------------------

    def routes(self) -> list[tuple[str, str, str, Handler]]:
        raise NotImplementedError

    def number(self) -> int:
        return next(self._numbers)

    def post_create(self, post: FakePost) -> FakePost:
        with self._lock:
            self.created.append(post)
            self.live[post.id] = post
        return post

    def post_delete(self, post_id: str) -> bool:
        with self._lock:
            post = self.live.pop(post_id, None)
            if post is not None:
                self.deleted.append(post_id)
            return post is not None

    def newest(self) -> list[FakePost]:
        with self._lock:
            return list(reversed(self.live.values()))

    def authorised(self, request: Request) -> Reply | None:
        """Return the refusal of a request without the right credentials, or None."""
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return self.refusal(401, "Invalid access token")
        return None

    def refusal(self, status: int, message: str) -> Reply:
        return Reply(status, {"error": {"message": message}})

    def fault(self, mode: str) -> Reply:
        """Return the platform's answer for a 500, 429 or 400 fault."""
        raise NotImplementedError

    def _next_mode(self, step: str) -> str:
        with self._lock:
            queue = self._faults.get(step)
            return queue.popleft() if queue else "ok"

    def handle(self, request: Request) -> tuple[str, Reply | None]:
        """Return the fault mode and the answer (None: close without answering)."""
        with self._lock:
            self.requests.append(request)
        refused = self.authorised(request)
        if refused is not None:
            return "ok", refused
        for method, pattern, step, handler in self._routes:
            match = (
                pattern.fullmatch(request.path[len(self.prefix) :]) if request.path.startswith(self.prefix) else None
            )
            if method == request.method and match:
                mode = self._next_mode(step)
                if mode in {"500", "429", "400"}:
                    return mode, self.fault(mode)
                if mode == "reset":
                    return mode, None
                if mode == "echo":
                    message = f"Invalid request; you sent authorization: {request.headers.get('authorization', '')}"
                    return mode, Reply(400, {"error": {"message": message}, "title": message, "detail": message})
                return mode, handler(request, match)
        return "ok", Reply(404, {"error": {"message": f"no route {request.method} {request.path}"}})


class _Handler(BaseHTTPRequestHandler):
    api: FakeApi
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _serve(self) -> None:
        parts = urllib.parse.urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        request = Request(
            method=self.command,
            path=parts.path,
            query=dict(urllib.parse.parse_qsl(parts.query)),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
            at=time.time(),
        )
        mode, reply = self.api.handle(request)
        if mode == "drop" or reply is None:
            self.close_connection = True  # no answer at all: the client sees the connection end
            return
        if mode == "timeout":
            time.sleep(self.api.hang_seconds)
        elif mode == "slow":
            time.sleep(self.api.slow_seconds)
        self._answer(reply)

    def _answer(self, reply: Reply) -> None:
        if isinstance(reply.body, dict | list):
            data = json.dumps(reply.body).encode()
            content_type = "application/json; charset=UTF-8"
        else:
            data = reply.body or b""
            content_type = "application/octet-stream"
        try:
            self.send_response(reply.status)
            if data:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client stopped waiting (the "timeout" fault)

    do_GET = do_POST = do_PUT = do_DELETE = _serve


# Meta's Graph API ---------------------------------------------------------------------------


class FakeGraph(FakeApi):
    prefix = "/v24.0"

    def refusal(self, status: int, message: str) -> Reply:
        return Reply(400, {"error": {"message": message, "type": "OAuthException", "code": 190, "fbtrace_id": "A1"}})

    def fault(self, mode: str) -> Reply:
        if mode == "500":
            return Reply(
                500,
                {"error": {"message": "An unexpected error has occurred.", "code": 2, "is_transient": True}},
            )
        if mode == "429":
            usage = {"4711": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 5}]}
            return Reply(
                400,
                {"error": {"message": "(#32) Page request limit reached", "type": "OAuthException", "code": 32}},
                {"X-Business-Use-Case-Usage": json.dumps(usage)},
            )
        return Reply(
            400,
            {
                "error": {
                    "message": "(#100) Invalid parameter",
                    "code": 100,
                    "error_user_msg": "The message contains a blocked link.",
                }
            },
        )

    def object_missing(self, object_id: str) -> Reply:
        return Reply(
            400,
            {
                "error": {
                    "message": f"Unsupported delete request. Object with ID '{object_id}' does not exist",
                    "code": 100,
                    "error_subcode": 33,
                }
            },
        )


class FakeFacebook(FakeGraph):
    """A Facebook Page: /{page}/feed, /{page}/photos, DELETE /{post}."""

    page_id = "4711"

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.photos: dict[str, dict[str, Any]] = {}

    def credentials(self) -> dict[str, str]:
        return {"page_id": self.page_id, "access_token": TOKEN, "api_base": self.api_base}

    def routes(self) -> list[tuple[str, str, str, Handler]]:
        page = self.page_id
        return [
            ("POST", rf"/{page}/feed", "feed", self._feed),
            ("POST", rf"/{page}/photos", "photos", self._photos),
            ("GET", rf"/{page}/feed", "list", self._list),
            ("DELETE", r"/(?P<id>[\w]+)", "delete", self._delete),
        ]

    def _post(self, text: str, media: list[str]) -> FakePost:
        post_id = f"{self.page_id}_{self.number()}"
        return self.post_create(FakePost(post_id, text, f"https://www.facebook.com/{post_id}", media))

    def _feed(self, request: Request, match: re.Match[str]) -> Reply:
        form = request.form()
        attached = [item["media_fbid"] for item in json.loads(form.get("attached_media", "[]"))]
        if any(photo not in self.photos for photo in attached):
            return self.fault("400")
        post = self._post(form.get("message", ""), attached or ([form["link"]] if "link" in form else []))
        return Reply(200, {"id": post.id})

    def _photos(self, request: Request, match: re.Match[str]) -> Reply:
        fields, files = request.multipart()
        if "source" not in files:
            return self.fault("400")
        photo_id = str(self.number())
        self.photos[photo_id] = {"bytes": files["source"], "alt": fields.get("alt_text_custom", "")}
        if fields.get("published") == "false":
            return Reply(200, {"id": photo_id})
        post = self._post(fields.get("message", ""), [photo_id])
        return Reply(200, {"id": photo_id, "post_id": post.id})

    def _list(self, request: Request, match: re.Match[str]) -> Reply:
        limit = int(request.query.get("limit", "25"))
        data = [{"id": p.id, "message": p.text, "permalink_url": p.url} for p in self.newest()[:limit]]
        return Reply(200, {"data": data, "paging": {}})

    def _delete(self, request: Request, match: re.Match[str]) -> Reply:
        if self.post_delete(match["id"]):
            return Reply(200, {"success": True})
        return self.object_missing(match["id"])


class FakeInstagram(FakeGraph):
    """An Instagram professional account: containers, their status, media_publish, media listing."""

    user_id = "17841400000000001"

    def __init__(self, *, processing_polls: int = 1, processing_fails: bool = False, **options: Any) -> None:
        super().__init__(**options)
        self.processing_polls = processing_polls
        self.processing_fails = processing_fails
        self.containers: dict[str, dict[str, Any]] = {}

    def credentials(self) -> dict[str, str]:
        return {
            "ig_user_id": self.user_id,
            "access_token": TOKEN,
            "media_base_url": "https://media.example.org/m",
            "api_base": self.api_base,
        }

    def routes(self) -> list[tuple[str, str, str, Handler]]:
        user = self.user_id
        return [
            ("POST", rf"/{user}/media", "container", self._container),
            ("POST", rf"/{user}/media_publish", "publish", self._publish),
            ("GET", rf"/{user}/media", "list", self._list),
            ("GET", r"/(?P<id>\d+)", "status", self._object),
        ]

    def _container(self, request: Request, match: re.Match[str]) -> Reply:
        form = request.form()
        if not (form.get("image_url") or form.get("video_url") or form.get("media_type") == "CAROUSEL"):
            return self.fault("400")
        container_id = str(self.number())
        self.containers[container_id] = {"form": form, "polls": 0, "status_code": "IN_PROGRESS"}
        return Reply(200, {"id": container_id})

    def _object(self, request: Request, match: re.Match[str]) -> Reply:
        object_id = match["id"]
        with self._lock:
            if object_id in self.live:
                return Reply(200, {"id": object_id, "permalink": self.live[object_id].url})
            container = self.containers.get(object_id)
            if container is None:
                return self.object_missing(object_id)
            container["polls"] += 1
            if container["status_code"] == "IN_PROGRESS" and container["polls"] > self.processing_polls:
                container["status_code"] = "ERROR" if self.processing_fails else "FINISHED"
            return Reply(200, {"id": object_id, "status_code": container["status_code"]})

    def _publish(self, request: Request, match: re.Match[str]) -> Reply:
        with self._lock:
            container = self.containers.get(request.form().get("creation_id", ""))
            if container is None or container["status_code"] != "FINISHED":
                return Reply(
                    400,
                    {"error": {"message": "Media ID is not available", "code": 9007, "error_subcode": 2207027}},
                )
            container["status_code"] = "PUBLISHED"
            form = container["form"]
            media = [self.containers[c]["form"] for c in form.get("children", "").split(",") if c] or [form]
            media_id = str(self.number())
            self.post_create(
                FakePost(
                    media_id,
                    form.get("caption", ""),
                    f"https://www.instagram.com/p/{media_id}/",
                    [item.get("image_url") or item.get("video_url", "") for item in media],
                )
            )
        return Reply(200, {"id": media_id})

    def _list(self, request: Request, match: re.Match[str]) -> Reply:
        limit = int(request.query.get("limit", "25"))
        data = [{"id": p.id, "caption": p.text, "permalink": p.url} for p in self.newest()[:limit]]
        return Reply(200, {"data": data})


# LinkedIn -----------------------------------------------------------------------------------


class FakeLinkedIn(FakeApi):
    """LinkedIn's versioned REST API: images, posts; every call needs the version and protocol headers."""

    author = "urn:li:organization:5515715"

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.images: dict[str, bytes | None] = {}

    def credentials(self) -> dict[str, str]:
        return {"access_token": TOKEN, "author_urn": self.author, "api_base": self.api_base}

    def refusal(self, status: int, message: str) -> Reply:
        return Reply(status, {"status": status, "serviceErrorCode": 65600, "message": message})

    def authorised(self, request: Request) -> Reply | None:
        refused = super().authorised(request)
        if refused is not None or request.path.startswith("/upload/"):
            return refused
        if not re.fullmatch(r"\d{6}", request.headers.get("linkedin-version", "")):
            return self.refusal(400, "A valid LinkedIn-Version header (YYYYMM) is required")
        if request.headers.get("x-restli-protocol-version") != "2.0.0":
            return self.refusal(400, "X-Restli-Protocol-Version 2.0.0 is required")
        return None

    def fault(self, mode: str) -> Reply:
        if mode == "500":
            return self.refusal(500, "Internal Server Error")
        if mode == "429":
            return self.refusal(
                429, "Resource level throttle APPLICATION DAY limit for calls to this resource is reached."
            )
        return self.refusal(422, "ERROR :: /commentary :: length exceeds 3000 characters")

    def routes(self) -> list[tuple[str, str, str, Handler]]:
        return [
            ("POST", r"/rest/images", "image-init", self._image_init),
            ("PUT", r"/upload/(?P<n>\d+)", "image-upload", self._image_upload),
            ("POST", r"/rest/posts", "post", self._post),
            ("GET", r"/rest/posts", "list", self._list),
            ("DELETE", r"/rest/posts/(?P<urn>.+)", "delete", self._delete),
        ]

    def _image_init(self, request: Request, match: re.Match[str]) -> Reply:
        if request.query.get("action") != "initializeUpload":
            return self.fault("400")
        number = self.number()
        self.images[f"urn:li:image:{number}"] = None
        value = {"uploadUrl": f"{self.base_url}/upload/{number}", "image": f"urn:li:image:{number}"}
        return Reply(200, {"value": value})

    def _image_upload(self, request: Request, match: re.Match[str]) -> Reply:
        self.images[f"urn:li:image:{match['n']}"] = request.body
        return Reply(201)

    def _post(self, request: Request, match: re.Match[str]) -> Reply:
        document = request.json()
        content = document.get("content") or {}
        images = [content["media"]] if "media" in content else (content.get("multiImage") or {}).get("images", [])
        if document.get("author") != self.author or document.get("lifecycleState") != "PUBLISHED":
            return self.refusal(422, "ERROR :: /author :: not allowed")
        if any(not self.images.get(image["id"]) for image in images):
            return self.refusal(422, "ERROR :: /content/media/id :: image not uploaded")
        urn = f"urn:li:share:{self.number()}"
        post = FakePost(urn, document.get("commentary", ""), f"https://www.linkedin.com/feed/update/{urn}/")
        post.media = [image["id"] for image in images]
        post.extra = {"content": content}
        self.post_create(post)
        return Reply(201, None, {"x-restli-id": urn})

    def _list(self, request: Request, match: re.Match[str]) -> Reply:
        if request.query.get("q") != "author" or request.query.get("author") != self.author:
            return self.refusal(400, "q=author with the author's URN is required")
        count = int(request.query.get("count", "10"))
        elements = [{"id": p.id, "author": self.author, "commentary": p.text} for p in self.newest()[:count]]
        return Reply(200, {"elements": elements, "paging": {"count": count, "start": 0}})

    def _delete(self, request: Request, match: re.Match[str]) -> Reply:
        urn = urllib.parse.unquote(match["urn"])
        return Reply(204) if self.post_delete(urn) else self.refusal(404, "Not Found")


# X ------------------------------------------------------------------------------------------


class FakeX(FakeApi):
    """X API v2: media upload and metadata, posts, a user's timeline, delete."""

    user_id = "2244994945"

    def __init__(self, *, timeline_allowed: bool = True, **options: Any) -> None:
        super().__init__(**options)
        self.timeline_allowed = timeline_allowed
        self.media: dict[str, dict[str, Any]] = {}

    def credentials(self) -> dict[str, str]:
        return {"access_token": TOKEN, "api_base": self.api_base}

    def refusal(self, status: int, message: str) -> Reply:
        return Reply(status, {"title": "Unauthorized", "type": "about:blank", "status": status, "detail": message})

    def fault(self, mode: str) -> Reply:
        if mode == "500":
            return Reply(503, {"title": "Service Unavailable", "detail": "Service Unavailable", "status": 503})
        if mode == "429":
            reset = str(int(time.time() + self.reset_in))
            headers = {"x-rate-limit-limit": "100", "x-rate-limit-remaining": "0", "x-rate-limit-reset": reset}
            return Reply(429, {"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429}, headers)
        return Reply(
            403,
            {
                "title": "Forbidden",
                "type": "about:blank",
                "status": 403,
                "detail": "You are not allowed to create a Tweet with duplicate content.",
            },
        )

    def routes(self) -> list[tuple[str, str, str, Handler]]:
        return [
            ("POST", r"/2/media/upload", "media", self._upload),
            ("POST", r"/2/media/metadata", "metadata", self._metadata),
            ("POST", r"/2/tweets", "tweet", self._tweet),
            ("GET", r"/2/users/me", "me", self._me),
            ("GET", r"/2/users/(?P<user>\d+)/tweets", "list", self._list),
            ("DELETE", r"/2/tweets/(?P<id>\d+)", "delete", self._delete),
            ("GET", r"/2/tweets/(?P<id>\d+)", "get", self._get),
        ]

    def _upload(self, request: Request, match: re.Match[str]) -> Reply:
        document = request.json()
        if document.get("media_category") != "tweet_image":
            return self.fault("400")
        media_id = str(self.number())
        data = base64.b64decode(document["media"])
        self.media[media_id] = {"bytes": data, "alt": ""}
        return Reply(200, {"data": {"id": media_id, "media_key": f"3_{media_id}", "size": len(data)}})

    def _metadata(self, request: Request, match: re.Match[str]) -> Reply:
        document = request.json()
        self.media[document["id"]]["alt"] = document["metadata"]["alt_text"]["text"]
        return Reply(200, {"data": {"id": document["id"]}})

    def _tweet(self, request: Request, match: re.Match[str]) -> Reply:
        document = request.json()
        media_ids = (document.get("media") or {}).get("media_ids", [])
        if any(media_id not in self.media for media_id in media_ids):
            return self.refusal(400, "Your media IDs are invalid.")
        post_id = str(1_800_000_000_000_000_000 + self.number())
        self.post_create(FakePost(post_id, document["text"], f"https://x.com/i/status/{post_id}", media_ids))
        return Reply(201, {"data": {"id": post_id, "text": document["text"], "edit_history_tweet_ids": [post_id]}})

    def _me(self, request: Request, match: re.Match[str]) -> Reply:
        return Reply(200, {"data": {"id": self.user_id, "name": "Klinikum", "username": "klinikum"}})

    def _list(self, request: Request, match: re.Match[str]) -> Reply:
        if not self.timeline_allowed:
            return Reply(
                403,
                {
                    "title": "Client Forbidden",
                    "reason": "client-not-enrolled",
                    "detail": "This endpoint is not available on your plan.",
                    "status": 403,
                },
            )
        limit = int(request.query.get("max_results", "10"))
        data = [{"id": p.id, "text": p.text, "edit_history_tweet_ids": [p.id]} for p in self.newest()[:limit]]
        return Reply(200, {"data": data, "meta": {"result_count": len(data)}})

    def _delete(self, request: Request, match: re.Match[str]) -> Reply:
        return Reply(200, {"data": {"deleted": self.post_delete(match["id"])}})

    def _get(self, request: Request, match: re.Match[str]) -> Reply:
        post = self.live.get(match["id"])
        if post is not None:
            return Reply(200, {"data": {"id": post.id, "text": post.text}})
        error = {"title": "Not Found Error", "detail": f"Could not find tweet with id: [{match['id']}]."}
        return Reply(200, {"errors": [{**error, "type": "https://api.twitter.com/2/problems/resource-not-found"}]})


# YouTube ------------------------------------------------------------------------------------


class FakeYouTube(FakeApi):
    """YouTube Data API v3: resumable videos.insert, the uploads playlist, delete."""

    channel = "UCfake0000000000000000"

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.sessions: dict[str, dict[str, Any]] = {}
        self._half_next = 0

    def credentials(self) -> dict[str, str]:
        return {"access_token": TOKEN, "api_base": self.api_base}

    def cut_next_upload(self) -> None:
        """Make the next upload arrive only half, then drop the connection (a resumable failure)."""
        with self._lock:
            self._half_next += 1

    @staticmethod
    def _error(status: int, reason: str, message: str) -> Reply:
        return Reply(status, {"error": {"code": status, "message": message, "errors": [{"reason": reason}]}})

    def refusal(self, status: int, message: str) -> Reply:
        return self._error(401, "authError", "Request had invalid authentication credentials.")

    def fault(self, mode: str) -> Reply:
        if mode == "500":
            return self._error(503, "backendError", "Backend Error")
        if mode == "429":
            return self._error(
                403, "quotaExceeded", "The request cannot be completed because you have exceeded your quota."
            )
        return self._error(400, "invalidTitle", "The request metadata specifies an invalid video title.")

    def routes(self) -> list[tuple[str, str, str, Handler]]:
        return [
            ("POST", r"/upload/youtube/v3/videos", "session", self._session),
            ("PUT", r"/upload/session/(?P<n>\d+)", "upload", self._upload),
            ("GET", r"/youtube/v3/channels", "channels", self._channels),
            ("GET", r"/youtube/v3/playlistItems", "list", self._list),
            ("DELETE", r"/youtube/v3/videos", "delete", self._delete),
        ]

    def _session(self, request: Request, match: re.Match[str]) -> Reply:
        if request.query.get("uploadType") != "resumable" or "x-upload-content-length" not in request.headers:
            return self.fault("400")
        resource = request.json()
        if not resource.get("snippet", {}).get("title"):
            return self.fault("400")
        number = str(self.number())
        self.sessions[number] = {
            "resource": resource,
            "size": int(request.headers["x-upload-content-length"]),
            "data": b"",
            "video": None,
        }
        return Reply(200, None, {"Location": f"{self.base_url}/upload/session/{number}"})

    def _upload(self, request: Request, match: re.Match[str]) -> Reply | None:
        with self._lock:
            session = self.sessions[match["n"]]
            size = session["size"]
            content_range = request.headers.get("content-range", "")
            if content_range == f"bytes */{size}" or session["video"] is not None:
                return self._session_state(session)
            start = int(content_range.split()[1].split("-")[0]) if content_range else 0
            data = request.body
            half = self._half_next > 0
            if half:
                self._half_next -= 1
                data = data[: len(data) // 2]
            session["data"] = session["data"][:start] + data
            state = self._session_state(session)
        return None if half else state

    def _session_state(self, session: dict[str, Any]) -> Reply:
        if len(session["data"]) < session["size"]:
            received = len(session["data"])
            return Reply(308, None, {"Range": f"bytes=0-{received - 1}"} if received else {})
        if session["video"] is None:
            snippet = session["resource"]["snippet"]
            video_id = f"vid{self.number()}"
            post = FakePost(video_id, snippet.get("description", ""), f"https://www.youtube.com/watch?v={video_id}")
            post.extra = {"title": snippet["title"], "bytes": session["data"], "status": session["resource"]["status"]}
            session["video"] = self.post_create(post)
        video = session["video"]
        return Reply(200, {"kind": "youtube#video", "id": video.id, "snippet": {"title": video.extra["title"]}})

    def _channels(self, request: Request, match: re.Match[str]) -> Reply:
        uploads = "UU" + self.channel[2:]
        return Reply(
            200, {"items": [{"id": self.channel, "contentDetails": {"relatedPlaylists": {"uploads": uploads}}}]}
        )

    def _list(self, request: Request, match: re.Match[str]) -> Reply:
        limit = int(request.query.get("maxResults", "5"))
        items = [
            {
                "snippet": {
                    "title": p.extra["title"],
                    "description": p.text,
                    "resourceId": {"kind": "youtube#video", "videoId": p.id},
                }
            }
            for p in self.newest()[:limit]
        ]
        return Reply(200, {"items": items})

    def _delete(self, request: Request, match: re.Match[str]) -> Reply:
        if self.post_delete(request.query.get("id", "")):
            return Reply(204)
        return self._error(404, "videoNotFound", "The video that you are trying to delete cannot be found.")


# TikTok -------------------------------------------------------------------------------------


class FakeTikTok(FakeApi):
    """TikTok's Content Posting API (Direct Post) and the Display API's video list."""

    def __init__(
        self, *, moderation_polls: int = 1, list_allowed: bool = True, privacy: tuple[str, ...] = (), **options: Any
    ) -> None:
        super().__init__(**options)
        self.moderation_polls = moderation_polls
        self.list_allowed = list_allowed
        self.privacy = privacy or ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY")
        self.publishes: dict[str, dict[str, Any]] = {}

    def credentials(self) -> dict[str, str]:
        return {"access_token": TOKEN, "api_base": self.api_base, "media_base_url": "https://media.example.org/m"}

    @staticmethod
    def _answer(status: int, data: dict[str, Any], code: str = "ok", message: str = "") -> Reply:
        return Reply(status, {"data": data, "error": {"code": code, "message": message, "log_id": "20261123"}})

    def refusal(self, status: int, message: str) -> Reply:
        return self._answer(401, {}, "access_token_invalid", "The access token is invalid or not found in the request.")

    def fault(self, mode: str) -> Reply:
        if mode == "500":
            return self._answer(500, {}, "internal_error", "Something went wrong. Please try again later.")
        if mode == "429":
            return self._answer(429, {}, "rate_limit_exceeded", "API rate limit was exceeded.")
        return self._answer(400, {}, "invalid_params", "The title of the post is too long.")

    def routes(self) -> list[tuple[str, str, str, Handler]]:
        return [
            ("POST", r"/v2/post/publish/creator_info/query/", "creator", self._creator),
            ("POST", r"/v2/post/publish/video/init/", "init", self._video_init),
            ("POST", r"/v2/post/publish/content/init/", "init", self._photo_init),
            ("PUT", r"/upload/(?P<id>[\w.~-]+)", "upload", self._upload),
            ("POST", r"/v2/post/publish/status/fetch/", "status", self._status),
            ("POST", r"/v2/video/list/", "list", self._list),
        ]

    def _creator(self, request: Request, match: re.Match[str]) -> Reply:
        return self._answer(200, {"creator_username": "klinikum", "privacy_level_options": list(self.privacy)})

    def _video_init(self, request: Request, match: re.Match[str]) -> Reply:
        document = request.json()
        source = document.get("source_info") or {}
        if source.get("source") != "FILE_UPLOAD" or document["post_info"].get("privacy_level") not in self.privacy:
            return self.fault("400")
        publish_id = f"v_pub_file~v2-1.{self.number()}"
        self.publishes[publish_id] = {
            "post_info": document["post_info"],
            "size": source["video_size"],
            "data": b"",
            "status": "PROCESSING_UPLOAD",
            "polls": 0,
        }
        return self._answer(200, {"publish_id": publish_id, "upload_url": f"{self.base_url}/upload/{publish_id}"})

    def _photo_init(self, request: Request, match: re.Match[str]) -> Reply:
        document = request.json()
        source = document.get("source_info") or {}
        if document.get("media_type") != "PHOTO" or source.get("source") != "PULL_FROM_URL":
            return self.fault("400")
        publish_id = f"p_pub_url~v2.{self.number()}"
        self.publishes[publish_id] = {
            "post_info": document["post_info"],
            "status": "PROCESSING_DOWNLOAD",
            "polls": 0,
            "photos": source["photo_images"],
        }
        self._post(publish_id)
        return self._answer(200, {"publish_id": publish_id})

    def _post(self, publish_id: str) -> None:
        info = self.publishes[publish_id]["post_info"]
        post = FakePost(str(7_300_000_000_000_000_000 + self.number()), info.get("description") or info["title"])
        post.extra = {"publish_id": publish_id, "title": info["title"], "listed": False}
        post.media = self.publishes[publish_id].get("photos", [])
        self.publishes[publish_id]["post"] = self.post_create(post)

    def _upload(self, request: Request, match: re.Match[str]) -> Reply:
        with self._lock:
            publish = self.publishes.get(match["id"])
            if publish is None:
                return self.fault("400")
            first, _last, total = map(int, re.findall(r"\d+", request.headers.get("content-range", "")))
            publish["data"] = publish["data"][:first] + request.body
            if len(publish["data"]) < total:
                return Reply(206)
            publish["status"] = "PROCESSING_DOWNLOAD"
            self._post(match["id"])
        return Reply(201)

    def _status(self, request: Request, match: re.Match[str]) -> Reply:
        with self._lock:
            publish = self.publishes.get(request.json().get("publish_id", ""))
            if publish is None:
                return self._answer(400, {}, "invalid_publish_id", "publish_id does not exist")
            data: dict[str, Any] = {"uploaded_bytes": len(publish.get("data", b""))}
            if publish["status"] == "PROCESSING_DOWNLOAD":
                publish["polls"] += 1
                if publish["polls"] > self.moderation_polls:
                    publish["status"] = "PUBLISH_COMPLETE"
                    publish["post"].extra["listed"] = True
            if publish["status"] == "PUBLISH_COMPLETE":
                data["publicaly_available_post_id"] = [int(publish["post"].id)]
            data["status"] = publish["status"]
        return self._answer(200, data)

    def _list(self, request: Request, match: re.Match[str]) -> Reply:
        if not self.list_allowed:
            return self._answer(401, {}, "scope_not_authorized", "The user did not authorize the scope required.")
        limit = int(request.json().get("max_count", 10))
        videos = [
            {
                "id": p.id,
                "title": p.text,
                "video_description": p.text,
                "share_url": f"https://www.tiktok.com/@klinikum/video/{p.id}",
                "create_time": int(dt.datetime.now(dt.UTC).timestamp()),
            }
            for p in self.newest()
            if p.extra.get("listed")
        ][:limit]
        return self._answer(200, {"videos": videos, "cursor": 0, "has_more": False})
