import datetime as dt

from django import forms
from django.conf import settings
from django.utils import timezone

from attackacrack import roles
from campaigns.calendar import BusinessCalendar
from campaigns.models import MAX_FOLLOW_UP_DAYS, Campaign, Outcome
from campaigns.outcomes import MAX_NOTE_LENGTH
from campaigns.texts import validate_template
from contacts.models import ContactImport
from contacts.phones import format_phone, normalize_phone

TOKENS_HELP = (
    "Tokens: {name} {first_name} {last_name} {city} {year_built} {address}; a fallback after a bar: {city|your town}."
)


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        # The start time is set by scheduling, not by this form.
        fields = [name for name in Campaign.EDITABLE_FIELDS if name != "starts_at"]
        widgets = {"template_a": forms.Textarea(attrs={"rows": 3}), "template_b": forms.Textarea(attrs={"rows": 3})}
        labels = {
            "name": "Campaign name",
            "template_a": "Text A",
            "template_b": "Text B",
            "daily_limit": "Texts per business day",
            "split_percent_a": "Share of the audience getting text A (%)",
            "judged_on": "The A/B test judges the texts on",
            "include_opt_out_footer": "Add “Reply STOP to unsubscribe” to a contact's first text",
            "frequency_cap_days": "Skip contacts any campaign texted in the last (days)",
            "prior_contact_policy": "Contacts who have texted us before",
            "from_number": "Send from",
        }
        help_texts = {
            "template_a": TOKENS_HELP,
            "template_b": "Optional: a second text for an A/B test. Leave blank to send text A to everyone.",
            "split_percent_a": "With two texts, this share of the audience gets A and the rest B.",
            "judged_on": "Per text sent. Booked inspections is what pays, but they come in days after the texts and "
            "are fewer than replies, so that verdict takes longer. Fixed once the campaign starts.",
            "frequency_cap_days": "0 texts everyone, however recently another campaign reached them.",
        }

    # The follow-up step, saved with the campaign (`services.set_follow_up`): blank text A, none.
    follow_up_template_a = forms.CharField(
        required=False,
        validators=[validate_template],
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Follow-up text A",
        help_text="Optional: a second text to those who have not answered the first. Leave blank for no follow-up.",
    )
    follow_up_template_b = forms.CharField(
        required=False,
        validators=[validate_template],
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Follow-up text B",
        help_text="Optional: a second follow-up text for an A/B test of its own.",
    )
    follow_up_split_percent_a = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=100,
        initial=50,
        label="Share of the follow-ups getting follow-up text A (%)",
    )
    follow_up_after_days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_FOLLOW_UP_DAYS,
        initial=3,
        label="Send the follow-up this many business days after the first text",
        help_text="Blank: only to the people you choose to text again from a reply.",
    )
    FOLLOW_UP_FIELDS = ("template_a", "template_b", "split_percent_a", "after_days")

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        follow_up = Campaign.objects.filter(follow_up_of=self.instance).first() if self.instance.pk else None
        if follow_up is not None:
            self.initial |= {
                "follow_up_template_a": follow_up.template_a,
                "follow_up_template_b": follow_up.template_b,
                "follow_up_split_percent_a": follow_up.split_percent_a,
                "follow_up_after_days": follow_up.follow_up_after_days,
            }
        business_number = settings.OPENPHONE_FROM_NUMBER
        self.fields["from_number"].help_text = (
            f"A phone number. Leave blank to send from the business number, {format_phone(business_number)}."
            if business_number
            else "A phone number (no business number is set up yet)."
        )
        limit = settings.SMS_DAILY_LIMIT_PER_NUMBER
        self.fields["daily_limit"].help_text = (
            f"One number sends at most {limit:,} texts a day, shared by every campaign on it: "
            "a higher limit here sends no more."
        )
        if self.instance.pk and self.instance.is_launched:
            # A disabled field keeps its stored value whatever is posted (services refuse a change too).
            self.fields["judged_on"].disabled = True
            self.fields["judged_on"].help_text = "Set before the campaign started: the verdict keeps judging on it."
        if not user.has_perm("campaigns.change_campaign_sending"):
            # A disabled field keeps its stored (or default) value whatever is posted.
            for name in roles.SENDING_FIELDS:
                self.fields[name].disabled = True
                self.fields[name].help_text = "Only the owner can change this."

    def campaign_fields(self) -> list:
        return [field for field in self if not field.name.startswith("follow_up_")]

    def follow_up_fields(self) -> list:
        return [field for field in self if field.name.startswith("follow_up_")]

    def follow_up(self) -> dict | None:
        """The follow-up step as `services.set_follow_up` takes it, or None for no follow-up."""
        data = self.cleaned_data
        if not data["follow_up_template_a"].strip():
            return None
        step = {name: data[f"follow_up_{name}"] for name in self.FOLLOW_UP_FIELDS}
        return step | {"split_percent_a": 50 if step["split_percent_a"] is None else step["split_percent_a"]}

    def clean_from_number(self) -> str:
        value = self.cleaned_data["from_number"].strip()
        if not value:
            return ""
        normalized = normalize_phone(value)
        if normalized is None:
            raise forms.ValidationError(f"{value!r} is not a valid phone number.")
        return normalized


class AudienceForm(forms.Form):
    """Which already-imported contacts to add to a campaign: the search box and the API's filters."""

    q = forms.CharField(
        required=False,
        label="Search",
        help_text="Words from a name, phone, email, street address, city or ZIP",
    )
    city = forms.CharField(required=False, max_length=100)
    zip_code = forms.CharField(required=False, max_length=10, label="ZIP")
    state = forms.CharField(required=False, max_length=2)
    contact_import = forms.ModelChoiceField(
        queryset=ContactImport.objects.filter(status=ContactImport.Status.COMPLETED).order_by("-id"),
        required=False,
        label="From the import",
        empty_label="Any import",
    )
    texted_us = forms.ChoiceField(
        required=False,
        label="Has texted us",
        choices=[("", "Either"), ("yes", "Has texted us"), ("no", "Never texted us")],
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contact_import"].label_from_instance = lambda item: (
            f"{item.file_name} ({item.started_at.astimezone(timezone.get_current_timezone()):%b %-d})"
        )

    def clean(self) -> dict:
        data = super().clean()
        if not any(data.get(name) for name in self.fields):
            raise forms.ValidationError("Give at least one of: search words, city, ZIP, state, import, has texted us.")
        return data

    def filters(self) -> dict:
        """The criteria as contact_filter takes them; opted-out contacts are never added."""
        data = self.cleaned_data
        texted = {"yes": True, "no": False}.get(data["texted_us"])
        return {
            "query": data["q"].strip(),
            "city": data["city"],
            "zip_code": data["zip_code"],
            "state": data["state"],
            "import_id": data["contact_import"].pk if data["contact_import"] else None,
            "has_texted_us": texted,
        }


class ScheduleForm(forms.Form):
    """A start date and time, read as wall time in the business's zone."""

    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="Start date")
    time = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"), label="Start time")

    def __init__(self, *args, calendar: BusinessCalendar, now: dt.datetime, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.calendar, self.now = calendar, now
        zone = calendar.zone.key
        self.fields["time"].help_text = f"Business time ({zone})."
        if not self.is_bound:
            # The next business day's opening: what "schedule it for tomorrow 9:00" usually means.
            next_day = next(calendar.business_days_after(calendar.local_date(now)))
            self.initial = {"date": next_day, "time": calendar.opens}

    def clean(self) -> dict:
        data = super().clean()
        if data.get("date") and data.get("time"):
            starts_at = dt.datetime.combine(data["date"], data["time"], tzinfo=self.calendar.zone)
            if starts_at < self.now - dt.timedelta(minutes=1):
                raise forms.ValidationError("That moment has passed: choose a later date or time.")
            data["starts_at"] = starts_at
        return data


class OutcomeForm(forms.Form):
    """What came of a conversation, as the thread and the contact page ask it (the rules are
    ``campaigns.outcomes``': this form only reads the fields)."""

    kind = forms.ChoiceField(label="Outcome", choices=Outcome.Kind.choices)
    on = forms.DateField(label="On", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    amount = forms.DecimalField(
        label="Amount ($)",
        required=False,
        max_digits=10,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"}),
    )
    note = forms.CharField(label="Note", required=False, max_length=MAX_NOTE_LENGTH)

    def __init__(self, *args, today: dt.date, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["on"].widget.attrs["max"] = today.isoformat()
        self.initial.setdefault("on", today)

    def problems(self) -> str:
        """Each error after the label of its field, in one sentence for the page's message."""
        return " ".join(
            f"{self.fields[field].label}: {error}" if field in self.fields else str(error)
            for field, errors in self.errors.items()
            for error in errors
        )
