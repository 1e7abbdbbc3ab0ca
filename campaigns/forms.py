from django import forms

from campaigns.models import Campaign
from contacts.phones import normalize_phone


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = [
            "name",
            "template_a",
            "template_b",
            "daily_limit",
            "split_percent_a",
            "include_opt_out_footer",
            "frequency_cap_days",
            "prior_contact_policy",
            "from_number",
        ]
        widgets = {"template_a": forms.Textarea(attrs={"rows": 3}), "template_b": forms.Textarea(attrs={"rows": 3})}
        help_texts = {
            "template_a": "Tokens: {name} {first_name} {last_name} {city} {year_built} {address}; "
            "a fallback after a bar: {city|your town}.",
        }

    def clean_from_number(self) -> str:
        value = self.cleaned_data["from_number"].strip()
        if not value:
            return ""
        normalized = normalize_phone(value)
        if normalized is None:
            raise forms.ValidationError(f"{value!r} is not a valid phone number.")
        return normalized
