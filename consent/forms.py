"""Forms of the consent registry: they parse and check what officers type; services write."""

from typing import Any

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from consent.documents import _max_bytes
from consent.models import (
    DEFAULT_RECIPIENTS,
    ConsentPlatform,
    ConsentPurpose,
    CopyGivenHow,
    MediaKind,
    ReceivedVia,
    SignerRole,
)
from consent.selectors import REGISTRY_STATES
from consent.services import RECORD_FIELDS, SUBJECT_FIELDS, SignerSpec
from core.confirm import ConfirmField
from core.inputs import BoundedDateField, BoundedDateTimeField

SIGNER_ROWS = 3
# The answer to "how did the signer get their copy?" when the officer records it later, on the record page.
COPY_LATER = "later"
ALL_PLATFORMS = "all"
LISTED_PLATFORMS = "listed"
DOCUMENT_ACCEPT = "application/pdf,image/jpeg,image/png,image/webp,.pdf,.jpg,.jpeg,.png,.webp"
# Codes of the errors document_clean raises (its own and the image pipeline's).
DOCUMENT_ERROR_CODES = frozenset(
    {
        "too_large",
        "corrupt",
        "unsupported_document",
        "unsupported_format",
        "not_an_image",
        "too_many_pixels",
        "animated",
    }
)


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


# A service's document error belongs on the upload (``code_fields`` of core.web.service_action).
DOCUMENT_ERROR_FIELDS = dict.fromkeys(DOCUMENT_ERROR_CODES, "document")


class RegistrySearchForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Name or reference"), required=False, max_length=200)
    state = forms.ChoiceField(label=gettext_lazy("State"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(state.value, state.label) for state in REGISTRY_STATES]
        state_field = self.fields["state"]
        assert isinstance(state_field, forms.ChoiceField)
        state_field.choices = [("", _("Any state")), *choices]


class SubjectForm(forms.Form):
    display_name = forms.CharField(label=gettext_lazy("Name or pseudonym"), max_length=200)
    reference = forms.CharField(
        label=gettext_lazy("Internal reference"),
        max_length=100,
        help_text=gettext_lazy("The hospital's reference for this person, e.g. a case number. Never published."),
    )
    date_of_birth = BoundedDateField(
        label=gettext_lazy("Date of birth"),
        required=False,
        widget=_date_input(),
        help_text=gettext_lazy("Only for minors: it decides whose signatures are needed."),
    )
    deceased_on = BoundedDateField(
        label=gettext_lazy("Date of death"),
        required=False,
        widget=_date_input(),
        help_text=gettext_lazy("For ten years after death, the relatives decide about images (KUG §22)."),
    )

    def subject_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in SUBJECT_FIELDS}


class ConsentRecordForm(forms.Form):
    """The "Record consent" form: the elements of a valid authorisation, the signers and the signed form."""

    media_kinds = forms.MultipleChoiceField(
        label=gettext_lazy("What may be shown"),
        choices=MediaKind.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": gettext_lazy("Choose what of the person may be shown.")},
    )
    description = forms.CharField(
        label=gettext_lazy("Description of what may be shown"),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": gettext_lazy("Describe what may be shown, as specifically as the signed form.")},
        help_text=gettext_lazy("As specific as the form, e.g. “photos from the ward visit on 3 May, first name”."),
    )
    disclosing_organisation = forms.CharField(label=gettext_lazy("Disclosed by"), max_length=200)
    recipients = forms.CharField(label=gettext_lazy("Recipients"), max_length=300)
    platform_scope = forms.ChoiceField(
        label=gettext_lazy("Platforms"),
        choices=[
            (ALL_PLATFORMS, gettext_lazy("All platforms")),
            (LISTED_PLATFORMS, gettext_lazy("Only the platforms ticked below")),
        ],
        widget=forms.RadioSelect,
        initial=LISTED_PLATFORMS,
    )
    platforms = forms.MultipleChoiceField(
        label=gettext_lazy("Listed platforms"),
        choices=ConsentPlatform.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    purposes = forms.MultipleChoiceField(
        label=gettext_lazy("Purposes"),
        choices=ConsentPurpose.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": gettext_lazy("Choose at least one purpose.")},
    )
    signed_on = BoundedDateField(label=gettext_lazy("Signed on"), widget=_date_input())
    expires_on = BoundedDateField(label=gettext_lazy("Expires on"), required=False, widget=_date_input())
    expiry_event = forms.CharField(
        label=gettext_lazy("Or expires at this event"),
        required=False,
        max_length=300,
        help_text=gettext_lazy("E.g. “end of the awareness campaign 2025”. A date or an event is required."),
    )
    states_right_to_revoke = forms.BooleanField(
        label=gettext_lazy(
            "The form states that the person may revoke this consent in writing at any time, and how to do so "
            "(45 CFR 164.508(c)(2)(i); GDPR Art. 7(3))."
        ),
    )
    states_no_conditioning = forms.BooleanField(
        label=gettext_lazy(
            "The form states that treatment, payment, enrolment and eligibility for benefits do not depend on "
            "signing it (45 CFR 164.508(c)(2)(ii))."
        ),
    )
    states_redisclosure = forms.BooleanField(
        label=gettext_lazy(
            "The form states that information, once published, may be redisclosed by others and is then no longer "
            "protected (45 CFR 164.508(c)(2)(iii))."
        ),
    )
    is_remunerated = forms.BooleanField(
        label=gettext_lazy("The hospital receives payment for this use (45 CFR 164.508(a)(3)-(4))."),
        required=False,
    )
    states_remuneration = forms.BooleanField(
        label=gettext_lazy("The form states that the hospital is paid for this use."),
        required=False,
    )
    copy_given_how = forms.ChoiceField(
        label=gettext_lazy("Copy of the signed form given to the signer (45 CFR 164.508(c)(4))"),
        choices=[*CopyGivenHow.choices, (COPY_LATER, gettext_lazy("Not yet: I will record it on the record page"))],
        widget=forms.RadioSelect,
        error_messages={
            "required": gettext_lazy("Say how the signer received their copy, or that it is not given yet.")
        },
        help_text=gettext_lazy("The consent can be verified only once the copy is recorded."),
    )
    copy_given_on = BoundedDateField(label=gettext_lazy("Copy given on"), required=False, widget=_date_input())
    notes = forms.CharField(label=gettext_lazy("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    withdrawal_born = BoundedDateField(
        label=gettext_lazy("Date of birth of the person shown, for online withdrawal"),
        required=False,
        widget=_date_input(),
        help_text=gettext_lazy(
            "The person withdraws online with the form reference and this date. It is stored only as a check "
            "value that cannot be read back. Without it (and no date of birth on the person), they must write or call."
        ),
    )
    document = forms.FileField(
        label=gettext_lazy("Signed form"),
        widget=forms.FileInput(attrs={"accept": DOCUMENT_ACCEPT}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["disclosing_organisation"].initial = settings.ROUNDS_ORGANISATION_NAME
        self.fields["recipients"].initial = _(DEFAULT_RECIPIENTS)
        self.fields["document"].help_text = _("PDF, JPEG, PNG or WebP, at most %(size)s.") % {
            "size": filesizeformat(_max_bytes())
        }
        self.required_statements = [
            self["states_right_to_revoke"],
            self["states_no_conditioning"],
            self["states_redisclosure"],
        ]
        self.signer_rows: list[list[forms.BoundField]] = []
        for n in range(1, SIGNER_ROWS + 1):
            self.fields[f"signer{n}_role"] = forms.ChoiceField(
                label=_("Signer %(n)s: signed as") % {"n": n},
                choices=[("", "—"), *SignerRole.choices],
                required=False,
                initial=SignerRole.SUBJECT if n == 1 else "",
            )
            self.fields[f"signer{n}_name"] = forms.CharField(
                label=_("Signer %(n)s: name") % {"n": n}, required=False, max_length=200
            )
            self.fields[f"signer{n}_authority"] = forms.CharField(
                label=_("Signer %(n)s: authority or relationship") % {"n": n},
                required=False,
                max_length=200,
                help_text=_("E.g. mother, court-appointed guardian, son. Not needed for the person themselves.")
                if n == 1
                else "",
            )
            self.signer_rows.append([self[f"signer{n}_{part}"] for part in ("role", "name", "authority")])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        listed = data.get("platform_scope") == LISTED_PLATFORMS
        if listed and not data.get("platforms") and "platforms" not in self.errors:
            self.add_error("platforms", _("Tick the platforms, or choose all platforms."))
        if not data.get("expires_on") and not (data.get("expiry_event") or "").strip():
            self.add_error("expires_on", _("Give an expiry date or an expiry event: consent without one is invalid."))
        if data.get("is_remunerated") and not data.get("states_remuneration"):
            self.add_error("states_remuneration", _("A paid use must be stated on the signed form."))
        how = data.get("copy_given_how")
        if how and how != COPY_LATER and not data.get("copy_given_on") and "copy_given_on" not in self.errors:
            self.add_error("copy_given_on", _("Give the day the signer received their copy."))
        self._signers = self._signers_clean(data)
        if (data.get("recipients") or "").strip() == _(DEFAULT_RECIPIENTS):
            # The default wording in the officer's language is stored as the one English default,
            # which every reader then sees in their own language (core.i18n.display_name).
            data["recipients"] = DEFAULT_RECIPIENTS
        return data

    def _signers_clean(self, data: dict[str, Any]) -> list[SignerSpec]:
        signers = []
        for n in range(1, SIGNER_ROWS + 1):
            role = data.get(f"signer{n}_role") or ""
            name = (data.get(f"signer{n}_name") or "").strip()
            authority = (data.get(f"signer{n}_authority") or "").strip()
            preset = SignerRole.SUBJECT if n == 1 else ""
            if not name and not authority and role in ("", preset):
                continue  # an unused row (the first row's preset role alone does not count)
            if not role:
                self.add_error(f"signer{n}_role", _("Choose how this person signed."))
            if not name:
                self.add_error(f"signer{n}_name", _("Give the signer's name."))
            if role and role != SignerRole.SUBJECT and not authority:
                self.add_error(
                    f"signer{n}_authority", _("Someone signing for another person must state their authority.")
                )
            signers.append(SignerSpec(role=role, name=name, authority=authority))
        if not signers:
            self.add_error("signer1_name", _("Name at least one person who signed."))
        return signers

    @property
    def signers(self) -> list[SignerSpec]:
        return self._signers

    def record_data(self) -> dict[str, Any]:
        data = {name: self.cleaned_data[name] for name in RECORD_FIELDS if name in self.cleaned_data}
        data["all_platforms"] = self.cleaned_data["platform_scope"] == ALL_PLATFORMS
        data["platforms"] = [] if data["all_platforms"] else list(self.cleaned_data["platforms"])
        data["expiry_event"] = data["expiry_event"].strip()
        if self.cleaned_data["copy_given_how"] == COPY_LATER:
            data["copy_given_how"], data["copy_given_on"] = "", None
        return data


class CopyGivenForm(forms.Form):
    """ "Record copy given": the signer received their copy of the signed form (45 CFR 164.508(c)(4))."""

    copy_given_how = forms.ChoiceField(
        label=gettext_lazy("Given how"), choices=CopyGivenHow.choices, widget=forms.RadioSelect
    )
    copy_given_on = BoundedDateField(label=gettext_lazy("Given on"), widget=_date_input())


class RevokeForm(forms.Form):
    # "Online withdrawal form" is recorded by the withdrawal page itself, never typed by an officer.
    received_via = forms.ChoiceField(
        label=gettext_lazy("Revocation received via"),
        choices=[(value, label) for value, label in ReceivedVia.choices if value != ReceivedVia.ONLINE],
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason (if the person gave one)"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    received_at = BoundedDateTimeField(
        label=gettext_lazy("Received at (leave empty for now)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
    )
    confirm_irreversible = ConfirmField(
        label=gettext_lazy(
            "I understand that a revocation cannot be undone: posts relying on this consent stop at once."
        )
    )


class WithdrawalRequestForm(forms.Form):
    """The public withdrawal page: what identifies the consent, and where to send the confirmation link."""

    reference = forms.CharField(
        label=gettext_lazy("Form reference"),
        max_length=40,
        help_text=gettext_lazy("Printed on your consent form, e.g. RC-7K3M-Q9TD."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
    )
    born = BoundedDateField(
        label=gettext_lazy("Date of birth of the person shown"),
        widget=_date_input(),
        help_text=gettext_lazy(
            "If you are a parent, guardian or relative: the date of birth of the person in the posts."
        ),
    )
    email = forms.EmailField(
        label=gettext_lazy("Your e-mail address"),
        max_length=254,
        help_text=gettext_lazy("We send a link there; you withdraw by opening it and confirming."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class WithdrawalConfirmForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("You need not give a reason."),
    )


class SubjectEraseForm(forms.Form):
    """An officer's erasure of a person's personal data (GDPR Art. 17): why, how asked, and confirmed."""

    received_via = forms.ChoiceField(label=gettext_lazy("Request received via"), choices=ReceivedVia.choices)
    reason = forms.CharField(
        label=gettext_lazy("Reason (e.g. the request's date; no names: it stays in the audit trail)"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    confirm_irreversible = ConfirmField(
        label=gettext_lazy(
            "I understand that erasure cannot be undone: every consent of this person is revoked, posts "
            "featuring them stop or are listed for takedown, and their name is removed everywhere."
        )
    )
