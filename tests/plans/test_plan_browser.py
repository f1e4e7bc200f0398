"""Import plan in a real Chromium: bad file, errors, fixed file, confirm, posts on the calendar."""

import json
from typing import Any

import pytest
from playwright.sync_api import expect

from plans import jobs
from posts.models import Post
from tests.conftest import CSV, browser_login
from tests.plans import test_plans

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Fixtures shared with test_plans; the clock stands before the fixtures' 2027 dates, which
# would otherwise turn into errors ("in the past") once the calendar passes them.
plan_accounts = test_plans.plan_accounts
plan_clock = test_plans.plan_clock


def test_upload_bad_plan_see_errors_upload_fixed_plan_confirm_and_see_posts_on_calendar(
    page: Any, editor: Any, plan_accounts: list[Any], plan_clock: None
) -> None:
    browser_login(page, "editor")
    page.get_by_role("link", name="Import plan").click()
    page.get_by_label("Plan file").set_input_files(str(CSV / "plan_bad_rows.csv"))
    page.get_by_role("button", name="Preview").click()

    page.get_by_text("The plan has 6 errors. Nothing was imported.").wait_for()
    assert page.locator("tr.plan-row-error").count() == 6
    assert page.locator("tr.plan-row-error[data-row='4'] mark.plan-column").inner_text() == "timezone"
    assert page.get_by_role("button", name="Confirm import").count() == 0
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the error report (CSV)").click()
    assert download.value.suggested_filename == "plan-errors.csv"
    assert Post.objects.count() == 0

    page.get_by_role("link", name="Upload a corrected file").click()
    page.get_by_label("Plan file").set_input_files(str(CSV / "plan_native_utf8.csv"))
    page.get_by_role("button", name="Preview").click()
    assert page.locator("tr.plan-row-created").count() == 5
    page.get_by_role("button", name="Confirm import").click()
    page.get_by_text("Imported: 5 created, 0 updated, 0 unchanged.").wait_for()

    page.get_by_role("link", name="See the posts on the calendar").click()
    page.wait_for_url("**/calendar/?view=list&date=2027-03-01")
    for title in ["Kick-off Herzwochen", "Tipp 1: Bewegung", "Wir suchen Pflegekräfte"]:
        assert page.get_by_text(title).first.is_visible()
    assert Post.objects.filter(status="draft", author=editor).count() == 5


def test_progress_bar_follows_a_background_import_and_shows_the_result(
    page: Any, editor: Any, plan_accounts: list[Any], plan_clock: None, settings: Any
) -> None:
    browser_login(page, "editor")
    page.goto("/plans/import/")
    page.get_by_label("Plan file").set_input_files(str(CSV / "plan_native_utf8.csv"))
    page.get_by_role("button", name="Preview").click()
    # The preview page must have finished loading before it is reloaded (a reload during the
    # navigation fails with "not attached to an active page").
    page.wait_for_url(lambda url: "/plans/import" not in url)
    page.wait_for_load_state("load")
    token = page.url.rstrip("/").split("/")[-1]
    # Pretend a worker is halfway through a large import.
    job = jobs.job_load(token)
    assert job is not None
    preview = job.preview
    job.state, job.done, job.total = jobs.IMPORTING, 1, 4
    jobs.job_save(job)
    page.reload()
    bar = page.locator("progress#plan-progress-bar")
    assert bar.get_attribute("value") == "1"
    job.done = 3
    jobs.job_save(job)
    # Not wait_for_function: Playwright evaluates its predicate with eval, which the page's CSP refuses.
    expect(bar).to_have_js_property("value", 3)
    assert page.url.endswith(f"/plans/{token}/")  # updated in place, no reload
    job.state, job.done, job.result = jobs.IMPORTED, 4, preview
    jobs.job_save(job)
    page.get_by_text("Imported: 5 created, 0 updated, 0 unchanged.").wait_for()
    assert json.loads((settings.PRIVATE_MEDIA_ROOT / "plans" / f"{token}.json").read_text())["state"] == "imported"
