"""What Today shows at its top: something that needs a person, from any app."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Alert:
    level: str  # "error" or "warning"
    text: str
    link: str = ""
    # A button that settles it: POSTed to this URL name with its label.
    action: str = ""
    action_label: str = ""
