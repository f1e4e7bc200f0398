"""Write posts as a campaign plan (CSV or .xlsx) in the import's columns, so it re-imports unchanged."""

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Iterator

from django.contrib.auth.models import AnonymousUser
from django.db.models import Prefetch, QuerySet

from people.models import User
from plans.reading import cell_escape
from plans.rows import COLUMNS, AccountIndex, time_cell
from posts.models import Account, Post, PostTarget
from posts.selectors import posts_for_user

CSV = "csv"
XLSX = "xlsx"
FORMATS = (CSV, XLSX)
CONTENT_TYPES = {
    CSV: "text/csv; charset=utf-8",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

# The C0 control characters an .xlsx cell cannot hold (openpyxl's ILLEGAL_CHARACTERS_RE); tab, line
# feed and carriage return stay. CSV drops them too, so both formats carry the same text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def cell_export(value: str) -> str:
    """Return ``value`` as an exported cell holds it: control characters dropped, then formula-escaped.

    In this order, so a cell like "\\x01=HYPERLINK(...)" cannot become a formula once the
    control character is gone.
    """
    return cell_escape(_CONTROL.sub("", value))


def _writable(cell: str) -> str:
    """Return a cell fit to write, escaping again where dropping a leading control character exposed a new start."""
    if not _CONTROL.search(cell):
        return cell
    return cell_escape(_CONTROL.sub("", cell)) if _CONTROL.match(cell) else _CONTROL.sub("", cell)


def posts_for_plan_export(
    *,
    user: User | AnonymousUser | None = None,
    campaign_ids: list[int] | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> QuerySet[Post]:
    """Return the planned posts to export (those ``user`` may see; all when no user), in time order."""
    posts = Post.objects.all() if user is None else posts_for_user(user=user)
    posts = posts.filter(scheduled_at__isnull=False)
    if campaign_ids is not None:
        posts = posts.filter(campaign_id__in=campaign_ids)
    if start is not None:
        posts = posts.filter(scheduled_at__gte=start)
    if end is not None:
        posts = posts.filter(scheduled_at__lt=end)
    return (
        posts.select_related("campaign")
        .prefetch_related(
            Prefetch("targets", queryset=PostTarget.objects.select_related("account").defer("account__credentials"))
        )
        .order_by("scheduled_at", "pk")
    )


def plan_rows(posts: Iterable[Post], *, accounts: AccountIndex | None = None) -> Iterator[list[str]]:
    """Yield the header, then one escaped row per post with its time in the post's own zone."""
    index = accounts or AccountIndex(Account.objects.defer("credentials"))
    yield list(COLUMNS)
    for post in posts:
        if post.scheduled_at is None:
            continue  # a plan row needs a time; unplanned posts are not part of a plan
        date, time = time_cell(post.scheduled_at, post.time_zone)
        targets = sorted(post.targets.all(), key=lambda target: (target.account.platform, target.account.name))
        cells = [
            post.campaign.name,
            date,
            time,
            post.time_zone,
            ";".join(index.reference(target.account) for target in targets),
            post.title,
            post.body,
            post.link,
            " ".join(f"#{tag}" for tag in post.hashtags),
            post.content_type,
            post.language,
            post.external_id,
        ]
        yield [cell_export(cell) for cell in cells]


def rows_to_csv(rows: Iterable[list[str]]) -> bytes:
    """Return escaped rows as UTF-8 CSV; a cell that still holds a control character is made safe here."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerows([_writable(cell) for cell in row] for row in rows)
    # The byte order mark makes Excel read UTF-8; the import accepts it.
    return buffer.getvalue().encode("utf-8-sig")


def rows_to_xlsx(rows: Iterable[list[str]]) -> bytes:
    """Return escaped rows as a one-sheet workbook in which every cell is a string, never a formula."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("plan")
    for row in rows:
        cells = []
        for text in row:
            cell = WriteOnlyCell(sheet, value=_writable(text))
            # openpyxl makes any value starting with "=" a formula; the escape already prevents that,
            # and the explicit type keeps it so whatever a caller passes.
            cell.data_type = "s"
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def plan_export(*, posts: Iterable[Post], file_format: str = CSV) -> bytes:
    """Return the posts as a plan file in ``file_format`` (csv or xlsx)."""
    rows = plan_rows(posts)
    if file_format == XLSX:
        return rows_to_xlsx(rows)
    if file_format != CSV:
        raise ValueError(f"unknown plan format {file_format!r}")
    return rows_to_csv(rows)
