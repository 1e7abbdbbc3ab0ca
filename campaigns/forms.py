from django import forms

from attackacrack import roles
from campaigns.models import Campaign
from contacts.phones import normalize_phone


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        # The start time is set by scheduling, not by this form.
        fields = [name for name in Campaign.EDITABLE_FIELDS if name != "starts_at"]
        widgets = {"template_a": forms.Textarea(attrs={"rows": 3}), "template_b": forms.Textarea(attrs={"rows": 3})}
        help_texts = {
            "template_a": "Tokens: {name} {first_name} {last_name} {city} {year_built} {address}; "
            "a fallback after a bar: {city|your town}.",
        }

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not user.has_perm("campaigns.change_campaign_sending"):
            # A disabled field keeps its stored (or default) value whatever is posted.
            for name in roles.SENDING_FIELDS:
                self.fields[name].disabled = True
                self.fields[name].help_text = "Only the owner can change this."

    def clean_from_number(self) -> str:
        value = self.cleaned_data["from_number"].strip()
        if not value:
            return ""
        normalized = normalize_phone(value)
        if normalized is None:
            raise forms.ValidationError(f"{value!r} is not a valid phone number.")
        return normalized
