"""The record of why each campaign text was sent when it was."""

from django.db import models
from django.db.models import F, Q

from campaigns.models.campaign import Campaign
from campaigns.models.members import CampaignSend
from contacts.models import Contact


class ComplianceRecord(models.Model):
    """Why a person was texted when they were: the rules a send passed when it was booked and
    again just before it went out, kept so the owner can answer for it months later.

    A record outlives its send: a booking released to be made again (a missed slot, a retry that
    could no longer go in time) leaves its record, with what became of it, naming the campaign
    and the contact; the rebooking gets a record of its own."""

    send = models.OneToOneField(
        CampaignSend, null=True, blank=True, on_delete=models.SET_NULL, related_name="compliance"
    )
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="compliance_records")
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="compliance_records")
    recipient_zones = models.CharField(max_length=128, blank=True, help_text="Blank: unknown (strictest window)")
    zone_source = models.CharField(max_length=10)
    recipient_state = models.CharField(max_length=2, blank=True, help_text="Blank: unknown (strictest rules)")
    recipient_hours = models.CharField(max_length=11, help_text="Local hours the state allows, e.g. 08:00-20:00")
    allowed_from = models.DateTimeField(help_text="Business window ∩ recipient window, on the booked day")
    allowed_until = models.DateTimeField()
    booked_at = models.DateTimeField()
    slot = models.DateTimeField()
    booking_checks = models.JSONField(help_text="Each rule checked at booking, true when passed")
    consent_basis = models.CharField(max_length=16, blank=True, help_text="The lawful basis the text relied on")
    lists_checked = models.JSONField(
        default=list, blank=True, help_text="The Do-Not-Call lists checked: list, area code, copy's date, listed"
    )
    dispatched_at = models.DateTimeField(null=True, blank=True)
    dispatch_checks = models.JSONField(default=dict, blank=True, help_text="Each rule checked just before sending")
    dispatch_outcome = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["-slot", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(slot__gte=F("allowed_from"), slot__lt=F("allowed_until")),
                name="compliance_slot_inside_allowed_window",
            ),
        ]
        indexes = [models.Index(fields=["slot"])]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.contact_id} at {self.slot:%Y-%m-%d %H:%M}"
