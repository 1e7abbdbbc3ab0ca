from django import forms

from messaging.limits import MAX_TEXT_LENGTH


class StaffTextForm(forms.Form):
    # The field strips the text, so one of only spaces is as missing as an empty one.
    body = forms.CharField(
        label="Text",
        max_length=MAX_TEXT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        error_messages={"required": "Write the text to send."},
    )


class ConsentChangeForm(forms.Form):
    """Staff opt a contact out, or back in, and say why (kept in the consent history)."""

    action = forms.ChoiceField(choices=[("opt_out", "Opt out"), ("opt_in", "Opt back in")])
    reason = forms.CharField(
        max_length=200,
        widget=forms.TextInput(attrs={"size": 40}),
        error_messages={"required": "Say why: it is kept in the consent history."},
    )


class ReviewDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("opt_out", "An opt-out"), ("not_opt_out", "Not an opt-out")])
