"""Request types that say who is logged in, for views and admin pages only signed-in users reach."""

from typing import cast

from django.http import HttpRequest

from people.models import User


class AuthedHttpRequest(HttpRequest):
    """The request of a view behind ``@login_required``: its user is a `User`, never anonymous.

    Only a type: Django builds plain requests, and ``login_required`` sends anonymous visitors
    to the login page before the view runs. Annotate such a view's ``request`` with it.
    """

    user: User


def admin_user(request: HttpRequest) -> User:
    """Return the user of an admin page's request (whose signature Django fixes as HttpRequest).

    ``AdminSite.admin_view`` lets only logged-in staff reach a ModelAdmin, so the user is a `User`.
    """
    return cast(User, request.user)
