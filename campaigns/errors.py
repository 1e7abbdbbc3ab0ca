"""What a campaign's state or run forbids: raised by the services and the booking engine,
answered 409 by the API and shown as messages by the pages and the admin."""

from campaigns.models import Campaign


class CampaignTransitionError(Exception):
    """A status change the campaign lifecycle does not allow (e.g. completed → active)."""

    def __init__(self, campaign: Campaign, status: str) -> None:
        allowed = ", ".join(sorted(campaign.TRANSITIONS[campaign.status])) or "none"
        super().__init__(f"A {campaign.status} campaign cannot become {status} (allowed: {allowed}).")


class CampaignLocked(Exception):
    """A change that the campaign's current state forbids (templates of an active campaign)."""


class CampaignNotRunnable(Exception):
    """The campaign cannot send now: it is not active, or it has no number to send from."""


class CampaignRunFailed(Exception):
    """A run failed for a reason nobody planned for: logged, kept on the campaign, shown on Today."""
