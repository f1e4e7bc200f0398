"""Review comments in a real browser: a blocking comment on a selected passage holds the stage until resolved."""

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from approvals.models import ReviewComment, ReviewStage
from approvals.services import round_submit
from posts.models import PostStatus
from tests.approvals.test_review_browser import default_chains, logged_in  # noqa: F401  (fixture)
from tests.conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PASSAGE = "Monday to Friday, 8 to 12"
BODY = f"Flu jabs in the main hall 💉: {PASSAGE}.\nBring your vaccination card – Dr. Müller will answer questions."

SELECT = """(quote) => {
  const source = document.querySelector('[data-comment-source="body"]');
  const node = source.firstChild;
  const start = node.textContent.indexOf(quote);
  const range = document.createRange();
  range.setStart(node, start);
  range.setEnd(node, start + quote.length);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
}"""


@pytest.fixture
def commented_post(editor: Any, review_campaign: Any, account_factory: Any, post_factory: Any) -> Any:
    post = post_factory(
        editor,
        review_campaign,
        title="Flu jab clinic",
        body=BODY,
        targets=[account_factory("facebook")],
        when=timezone.now() + dt.timedelta(days=5),
    )
    ReviewStage.objects.filter(chain__is_default=True, name="Medical review").update(blocking_comments_resolved=True)
    round_submit(post=post, actor=editor)
    return post


def test_journey_blocking_comment_on_a_selected_passage_changed_by_the_editor_resolved_then_approved(
    page: Any, browser: Any, live_server: Any, commented_post: Any, reviewers: dict[str, Any]
) -> None:
    post = commented_post
    review_url = f"/reviews/posts/{post.pk}/"
    with logged_in(browser, live_server, "medical") as medical:
        medical.goto(review_url)
        medical.evaluate(SELECT, PASSAGE)
        medical.get_by_role("button", name="Comment on this passage").click()
        assert medical.get_by_label("Passage").input_value() == PASSAGE
        # Code points, as the server counts: the syringe before it is two UTF-16 units, one code point.
        assert medical.locator("[data-comment-start]").input_value() == str(BODY.index(PASSAGE))
        medical.get_by_label("Note").fill("Until 12? The poster says 8 to 14. Please check with the ward.")
        medical.get_by_label("Blocking: must be resolved before the stage approves").check()
        medical.get_by_role("button", name="Add comment").click()
        medical.get_by_text("Your comment was added.").wait_for()
        comment = ReviewComment.objects.get()
        assert comment.blocking and comment.quote == PASSAGE
        assert comment.start == BODY.index(PASSAGE)
        assert medical.locator("mark.comment-mark").inner_text() == PASSAGE
        medical.get_by_text("This stage approves only once its blocking comments are resolved: 1 is open.").wait_for()

    browser_login(page, "editor")
    page.goto(f"/posts/{post.pk}/edit/")
    panel = page.locator("[data-editor-comments]")
    assert PASSAGE in panel.locator(".comment-quote").inner_text()
    assert panel.get_by_role("button", name="Resolve").count() == 0  # blocking: the reviewers resolve it
    page.get_by_label("Text", exact=True).fill(BODY.replace(PASSAGE, "Monday to Friday, 8 to 14"))
    # The page says first what saving does to the review; the editor confirms (issue 15).
    page.get_by_label("I understand, save the change").check()
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url(f"**/posts/{post.pk}/")
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW

    with logged_in(browser, live_server, "medical") as medical:
        medical.goto(review_url)
        thread = medical.locator(f"#comment-{comment.pk}")
        assert thread.locator("[data-passage-changed]").inner_text() == "passage changed"
        assert PASSAGE in thread.locator(".comment-quote").inner_text()
        assert medical.locator("mark.comment-mark").count() == 0
        medical.get_by_role("button", name="Approve").click()
        medical.get_by_text("Resolve the blocking comment of this stage before approving (1 open).").wait_for()
        medical.locator(f"#comment-{comment.pk}").get_by_role("button", name="Resolve").click()
        medical.get_by_text("The comment is resolved.").wait_for()
        medical.get_by_role("button", name="Approve").click()
        medical.get_by_text("You approved “Medical review”.").wait_for()

    comment.refresh_from_db()
    assert comment.resolved_by == reviewers["medical"]
