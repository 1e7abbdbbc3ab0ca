from django import forms


class StaffTextForm(forms.Form):
    body = forms.CharField(label="Text", max_length=1600, widget=forms.Textarea(attrs={"rows": 4, "cols": 60}))

    def clean_body(self) -> str:
        body = self.cleaned_data["body"].strip()
        if not body:
            raise forms.ValidationError("Write the text to send.")
        return body
