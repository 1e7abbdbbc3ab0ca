"""Campaigns: A/B-tested outreach, who is in each one, and every text it will send."""

from campaigns.models.campaign import (
    DAILY_LIMIT_TOO_HIGH,
    MAX_DAILY_LIMIT,
    MAX_FOLLOW_UP_DAYS,
    Campaign,
    CampaignStatus,
    Holiday,
    Variant,
    validate_sending_number,
)
from campaigns.models.evidence import ComplianceRecord
from campaigns.models.members import CampaignContact, CampaignSend
from campaigns.models.outcome import Outcome

__all__ = [
    "DAILY_LIMIT_TOO_HIGH",
    "MAX_DAILY_LIMIT",
    "MAX_FOLLOW_UP_DAYS",
    "Campaign",
    "CampaignContact",
    "CampaignSend",
    "CampaignStatus",
    "ComplianceRecord",
    "Holiday",
    "Outcome",
    "Variant",
    "validate_sending_number",
]
