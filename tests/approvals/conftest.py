import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from people import roles


def _user(username: str, *groups: str) -> Any:
    from people.models import User

    user = User.objects.create_user(username=username, password="pw", email=f"{username}@example.org")
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    return user


@pytest.fixture
def reviewers(db: None) -> dict[str, Any]:
    return {
        "medical": _user("medical", roles.MEDICAL_REVIEWER),
        "medical2": _user("medical2", roles.MEDICAL_REVIEWER),
        "legal": _user("legal", roles.LEGAL_REVIEWER),
        "comms": _user("comms", roles.COMMUNICATIONS_REVIEWER),
        "all_rounder": _user("all_rounder", roles.MEDICAL_REVIEWER, roles.LEGAL_REVIEWER),
    }


@pytest.fixture
def review_campaign(editor: Any, campaign_factory: Any, reviewers: dict[str, Any]) -> Any:
    return campaign_factory(editor, name="Flu season", reviewers=list(reviewers.values()))


@pytest.fixture
def submitted_post(editor: Any, review_campaign: Any, account_factory: Any, post_factory: Any) -> Any:
    from approvals.services import round_submit

    post = post_factory(
        editor,
        review_campaign,
        targets=[account_factory("facebook"), account_factory("linkedin")],
        # Six days: the default chain's turnarounds (five days) fit before the time, less the margin.
        when=timezone.now() + dt.timedelta(days=6),
    )
    round_submit(post=post, actor=editor)
    post.refresh_from_db()
    return post


def declare_crisis(post: Any) -> Any:
    """Return ``post`` made a crisis post by a Governance member (editors may only ask for it)."""
    from people.models import User
    from posts.services import post_crisis_declare

    declarer = User.objects.filter(username="crisis-desk").first() or _user("crisis-desk", roles.GOVERNANCE)
    return post_crisis_declare(post=post, actor=declarer)
