"""The Publishing page's filters: which state, campaign and account."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy

from posts.models import Account, Campaign
from publishing.models import PublicationStatus as P
from publishing.services import NEEDS_ATTENTION


class PublishingFilterForm(forms.Form):
    """Narrow the Publishing page; only the campaigns the user sees are offered (and accepted)."""

    state = forms.ChoiceField(label=gettext_lazy("State"), required=False)
    campaign = forms.ModelChoiceField(
        label=gettext_lazy("Campaign"), queryset=Campaign.objects.none(), required=False, empty_label=None
    )
    account = forms.ModelChoiceField(
        label=gettext_lazy("Account"), queryset=Account.objects.none(), required=False, empty_label=None
    )

    def __init__(self, *args: Any, campaign_ids: frozenset[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        state = self.fields["state"]
        assert isinstance(state, forms.ChoiceField)
        state.choices = [("", gettext_lazy("Any state")), *((value, P(value).label) for value in NEEDS_ATTENTION)]
        campaign = self.fields["campaign"]
        assert isinstance(campaign, forms.ModelChoiceField)
        campaign.queryset = Campaign.objects.filter(pk__in=campaign_ids).only("pk", "name").order_by("name", "pk")
        campaign.empty_label = gettext_lazy("Any campaign")
        account = self.fields["account"]
        assert isinstance(account, forms.ModelChoiceField)
        account.queryset = Account.objects.only("pk", "name", "platform").order_by("platform", "name", "pk")
        account.empty_label = gettext_lazy("Any account")
