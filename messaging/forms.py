from django import forms

from campaigns.texts import MAX_TEXT_LENGTH


class StaffTextForm(forms.Form):
    body = forms.CharField(
        label="Text", max_length=MAX_TEXT_LENGTH, widget=forms.Textarea(attrs={"rows": 4, "cols": 60})
    )

    def clean_body(self) -> str:
        body = self.cleaned_data["body"].strip()
        if not body:
            raise forms.ValidationError("Write the text to send.")
        return body
