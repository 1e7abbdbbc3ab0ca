"""What a campaign's texts cost before they go, and what makes some cost more.

- ``plain``: templates saved plain (curly quotes, long dashes … replaced), and what that saved
"""

from campaigns.costs.plain import PlainTemplate, plain_templates, what_was_made_plain

__all__ = [
    "PlainTemplate",
    "plain_templates",
    "what_was_made_plain",
]
