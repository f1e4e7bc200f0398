"""Pages of a long list, the same way on every list page (``templates/partials/pagination.html``).

``page_of`` cuts one page out of a query and returns a ``Page`` that knows its neighbours' URLs,
which keep every other parameter of the request (search, filters), so paging never drops them.

Two ways to know there is a next page:

- ``count=True`` (the default): Django's ``Paginator`` counts the rows once, and the page says
  "Page 2 of 14". Fine for lists bounded by a person or a campaign.
- ``count=False``: no ``COUNT(*)``; one row more than a page is read to learn whether a next page
  exists. A list that can grow with the whole database (every post a team has written) uses it,
  so that its time does not grow with the table.

A page number that is not a number, or beyond the last page, shows the nearest page (as
``Paginator.get_page`` does) rather than an error: links in mail and bookmarks outlive lists.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from django.core.paginator import Paginator
from django.db.models import F, Func, IntegerField, QuerySet, Subquery
from django.http import HttpRequest

PAGE = "page"
DEFAULT_PER_PAGE = 50
# A page number past this is read as this: an offset of millions makes the database walk them all.
MAX_PAGE = 10_000


@dataclass(frozen=True)
class Page:
    """One page of a list: its rows, its number, and the URLs of the pages next to it."""

    items: Sequence[Any]
    number: int
    per_page: int
    previous_url: str = ""
    next_url: str = ""
    first_url: str = ""
    # The number of pages when they were counted (``count=True``), else None.
    total_pages: int | None = None
    total_items: int | None = None

    @property
    def has_other_pages(self) -> bool:
        return bool(self.previous_url or self.next_url)

    @property
    def start_index(self) -> int:
        """The 1-based position of the page's first row (0 when the page is empty)."""
        return (self.number - 1) * self.per_page + 1 if self.items else 0

    @property
    def end_index(self) -> int:
        return (self.number - 1) * self.per_page + len(self.items)

    def __iter__(self) -> Any:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


class Sliced(Protocol):
    """Rows that give a list for ``rows[start:stop]`` (e.g. approvals.selectors.DeadlineWalk); not counted."""

    def __getitem__(self, wanted: slice, /) -> list[Any]: ...


def page_number(request: HttpRequest, *, param: str = PAGE) -> int:
    """Return the page the request asks for: a number from 1 to MAX_PAGE, 1 when it asks for none."""
    raw = request.GET.get(param, "")
    try:
        number = int(raw.strip()) if raw.strip().isascii() else 1
    except ValueError:
        number = 1
    return min(max(number, 1), MAX_PAGE)


def page_url(request: HttpRequest, number: int, *, param: str = PAGE) -> str:
    """Return the query string of page ``number``, keeping the request's other parameters."""
    query = request.GET.copy()
    if number <= 1:
        query.pop(param, None)
    else:
        query[param] = str(number)
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"


def page_of(
    request: HttpRequest,
    rows: QuerySet[Any] | Sequence[Any] | Sliced,
    *,
    per_page: int = DEFAULT_PER_PAGE,
    count: bool = True,
    param: str = PAGE,
) -> Page:
    """Return the page of ``rows`` (ordered) that ``request`` asks for with ``?page=N``."""
    asked = page_number(request, param=param)
    if count:
        if not isinstance(rows, QuerySet | Sequence):
            raise TypeError("Only a query or a sequence can be counted: pass count=False.")
        paginator = Paginator(rows, per_page)
        shown = paginator.get_page(asked)
        number = shown.number
        return Page(
            items=list(shown.object_list),
            number=number,
            per_page=per_page,
            previous_url=page_url(request, number - 1, param=param) if shown.has_previous() else "",
            next_url=page_url(request, number + 1, param=param) if shown.has_next() else "",
            first_url=page_url(request, 1, param=param) if number > 2 else "",
            total_pages=paginator.num_pages,
            total_items=paginator.count,
        )
    offset = (asked - 1) * per_page
    items = list(rows[offset : offset + per_page + 1])
    if not items and asked > 1:
        # Past the end: show the first page and a way back, rather than an empty list.
        return Page(items=[], number=asked, per_page=per_page, first_url=page_url(request, 1, param=param))
    has_next = len(items) > per_page
    return Page(
        items=items[:per_page],
        number=asked,
        per_page=per_page,
        previous_url=page_url(request, asked - 1, param=param) if asked > 1 else "",
        next_url=page_url(request, asked + 1, param=param) if has_next else "",
        first_url=page_url(request, 1, param=param) if asked > 2 else "",
    )


def count_subquery(queryset: QuerySet) -> Subquery:  # type: ignore[type-arg]
    """Return ``queryset``'s row count as a scalar subquery (no GROUP BY: COUNT here is a plain function).

    For reading several counts, or a count beside other values, in one query.
    """
    counted = queryset.order_by().values(n=Func(F("pk"), function="COUNT", output_field=IntegerField()))
    return Subquery(counted, output_field=IntegerField())
