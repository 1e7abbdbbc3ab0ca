"""What a campaign's state or run forbids: raised by the services and the booking engine,
answered 409 by the API's handler and shown as messages by the pages and the admin."""

from collections.abc import Mapping
from typing import Protocol

from attackacrack.errors import ApplicationError


class CampaignState(Protocol):
    """What these messages read of a campaign (``campaigns.models.Campaign``, whose methods raise
    some of these errors: this module does not import it)."""

    status: str
    TRANSITIONS: Mapping[str, frozenset[str]]


class CampaignTransitionError(ApplicationError):
    """A status change the campaign lifecycle does not allow (e.g. completed → active)."""

    code = "invalid_transition"

    def __init__(self, campaign: CampaignState, status: str) -> None:
        allowed = ", ".join(sorted(campaign.TRANSITIONS[campaign.status])) or "none"
        super().__init__(f"A {campaign.status} campaign cannot become {status} (allowed: {allowed}).")


class CampaignLocked(ApplicationError):
    """A change that the campaign's current state forbids (templates of an active campaign)."""

    code = "campaign_locked"

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        if field:
            self.loc = ("body", field)


class CampaignClosed(ApplicationError):
    """A completed or cancelled campaign takes no new members, whoever asks."""

    code = "campaign_closed"

    def __init__(self, campaign: CampaignState) -> None:
        super().__init__(f"The campaign is {campaign.status}: it takes no new contacts.")


class FollowUpTakesNoContacts(CampaignClosed):
    """A follow-up step's audience is its campaign's members who did not answer and those staff
    chose to text again: nobody is added to it otherwise (an import into it stores nothing)."""

    code = "follow_up_audience"

    def __init__(self) -> None:
        ApplicationError.__init__(
            self,
            "A follow-up texts its campaign's members who did not answer, and those staff choose to text again: "
            "add contacts to its campaign instead.",
        )


class NoSendingNumber(ApplicationError):
    """Neither the campaign nor OPENPHONE_FROM_NUMBER names the number to send from."""

    code = "campaign_not_runnable"


class CampaignNotRunnable(ApplicationError):
    """The campaign cannot send now: it is not active, or it has no number to send from."""

    code = "campaign_not_runnable"


class CampaignRunFailed(ApplicationError):
    """A run failed for a reason nobody planned for: logged, kept on the campaign, shown on Today."""

    code = "run_failed"


class NoFollowUpStep(ApplicationError):
    """Staff chose to text someone again, and the campaign they answered has no follow-up step."""

    code = "no_follow_up_step"


class TextAgainRefused(ApplicationError):
    """A day to text someone again that cannot be set: naming the field at fault."""

    status = 422
    code = "invalid"

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.loc = ("body", field)
