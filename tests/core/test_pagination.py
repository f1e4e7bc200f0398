"""core.pagination: one page of a list, with links that keep the list's search and filters."""

import pytest
from django.contrib.auth.models import Group
from django.template.loader import render_to_string
from django.test import RequestFactory

from core.pagination import MAX_PAGE, page_of

pytestmark = pytest.mark.django_db

ROWS = list(range(1, 124))  # 123 rows: pages of 50, 50 and 23


def request_for(query: str):
    return RequestFactory().get(f"/list/{query}")


@pytest.mark.parametrize("count", [True, False])
def test_pages_cut_the_rows_and_link_their_neighbours_keeping_the_filters(count):
    request = request_for("?q=M%C3%BCller&state=verified&page=2")

    page = page_of(request, ROWS, per_page=50, count=count)

    assert list(page) == list(range(51, 101))
    assert (page.start_index, page.end_index) == (51, 100)
    assert page.previous_url == "?q=M%C3%BCller&state=verified"
    assert page.next_url == "?q=M%C3%BCller&state=verified&page=3"
    assert page.total_pages == (3 if count else None)


@pytest.mark.parametrize("count", [True, False])
def test_the_last_page_has_no_next(count):
    page = page_of(request_for("?page=3"), ROWS, per_page=50, count=count)

    assert list(page) == list(range(101, 124))
    assert page.next_url == ""
    assert page.previous_url == "?page=2"
    assert page.first_url == "?"


@pytest.mark.parametrize("asked", ["x", "-4", "0", "", "٣", "1e3", "99999999999999999999"])
def test_a_page_number_that_is_no_page_number_shows_a_page_rather_than_an_error(asked):
    page = page_of(request_for(f"?page={asked}"), ROWS, per_page=50)

    assert page.number in {1, 3}
    assert len(page) > 0


def test_a_page_past_the_end_without_counting_offers_the_way_back():
    page = page_of(request_for(f"?page={MAX_PAGE + 50}"), ROWS, per_page=50, count=False)

    assert page.number == MAX_PAGE
    assert list(page) == []
    assert page.first_url == "?"


def test_without_counting_one_query_reads_the_page_and_no_count_is_run(django_assert_num_queries):
    with django_assert_num_queries(1) as captured:
        page = page_of(request_for("?page=2"), Group.objects.order_by("pk"), per_page=5, count=False)

    assert page.total_pages is None
    assert "COUNT(" not in captured.captured_queries[0]["sql"].upper()


def test_the_partial_links_the_pages_and_says_where_we_are():
    page = page_of(request_for("?q=Öz&page=2"), ROWS, per_page=50)

    html = render_to_string("partials/pagination.html", {"page": page})

    assert 'href="?q=%C3%96z"' in html and 'rel="prev"' in html
    assert 'href="?q=%C3%96z&amp;page=3"' in html and 'rel="next"' in html
    assert "Page 2 of 3" in html
    assert render_to_string("partials/pagination.html", {"page": page_of(request_for(""), ROWS[:3])}).strip() == ""
