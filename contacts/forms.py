from django import forms
from django.contrib.auth.models import AbstractBaseUser

from campaigns.models import Campaign
from contacts.importing import pipeline
from contacts.models import ContactImport


class ImportUploadForm(forms.Form):
    file = forms.FileField(help_text="A PropertyRadar export or any contact CSV with a phone column")
    campaign = forms.ModelChoiceField(
        queryset=Campaign.objects.exclude(status__in=Campaign.CLOSED_STATUSES),
        required=False,
        help_text="Also add the imported contacts to this campaign's audience",
    )
    format = forms.ChoiceField(choices=[("", "Detect from the header"), *ContactImport.Format.choices], required=False)

    def import_file(self, *, created_by: AbstractBaseUser) -> ContactImport:
        """Import the uploaded file (the page and the admin both); BadFile / ImportFailed as the service."""
        upload = self.cleaned_data["file"]
        return pipeline.import_upload(
            file=upload,
            file_name=upload.name,
            created_by=created_by,
            campaign=self.cleaned_data["campaign"],
            format=self.cleaned_data["format"] or None,
        )
