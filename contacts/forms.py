from django import forms

from campaigns.models import Campaign
from contacts.models import ContactImport


class ImportUploadForm(forms.Form):
    file = forms.FileField(help_text="A PropertyRadar export or any contact CSV with a phone column")
    campaign = forms.ModelChoiceField(
        queryset=Campaign.objects.exclude(status__in=[Campaign.Status.COMPLETED, Campaign.Status.CANCELLED]),
        required=False,
        help_text="Also add the imported contacts to this campaign's audience",
    )
    format = forms.ChoiceField(choices=[("", "Detect from the header"), *ContactImport.Format.choices], required=False)
