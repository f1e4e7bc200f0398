"""The filters of the review lists ("My posts", the inbox), read from the query string.

A value the user may not choose (a campaign they cannot see, an unknown state) makes the form
invalid: the page names the field's error and lists nothing, rather than ignoring the filter and
showing more than was asked for.
"""

from collections.abc import Iterable
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy

from approvals.selectors import NEEDS_ACTION, MyPostsFilter
from posts.models import Campaign, PostStatus

# Whether a list's filters narrow it: the parameters that are not the page number.
FILTER_FIELDS = ("status", "campaign", "q", "overdue")


class ListFilterForm(forms.Form):
    """A GET form whose campaign choices are the campaigns the user may see."""

    campaign = forms.TypedChoiceField(label=gettext_lazy("Campaign"), coerce=int, required=False, empty_value=None)

    def __init__(self, data: QueryDict, *, campaigns: Iterable[Campaign]) -> None:
        super().__init__(data, auto_id="filter-%s")
        field = self.fields["campaign"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", gettext_lazy("All campaigns")), *((c.pk, c.name) for c in campaigns)]

    @property
    def narrowed(self) -> bool:
        """True when the request chose any filter (valid or not)."""
        return any(self.data.get(name) for name in FILTER_FIELDS)


class MyPostsFilterForm(ListFilterForm):
    field_order = ("status", "campaign", "q")
    status = forms.ChoiceField(label=gettext_lazy("State"), required=False)
    q = forms.CharField(label=gettext_lazy("Search title or text"), required=False, max_length=200, strip=True)

    def __init__(self, data: QueryDict, *, campaigns: Iterable[Campaign]) -> None:
        super().__init__(data, campaigns=campaigns)
        field = self.fields["status"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [
            ("", gettext_lazy("All states")),
            (NEEDS_ACTION, gettext_lazy("Needs my action (changes requested, drafts)")),
            *PostStatus.choices,
        ]

    def filters(self) -> MyPostsFilter:
        """Return the selector's filter; call only on a valid form."""
        cleaned: dict[str, Any] = self.cleaned_data
        return MyPostsFilter(status=cleaned["status"], campaign_id=cleaned["campaign"], text=cleaned["q"])


class InboxFilterForm(ListFilterForm):
    overdue = forms.BooleanField(label=gettext_lazy("Only overdue reviews"), required=False)
