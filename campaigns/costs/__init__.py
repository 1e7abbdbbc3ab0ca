"""What a campaign's texts cost before they go, and what makes some cost more.

- ``plain``: templates saved plain (curly quotes, long dashes … replaced), and what that saved
- ``counting``: members counted, in the database, by what their values add to their text
- ``estimates``: what each text costs its members, and the flags that say what costs more
"""

from campaigns.costs.estimates import CampaignCost, CostFlag, TextCost, cost_to_come, launch_cost, text_costs
from campaigns.costs.plain import PlainTemplate, plain_templates, what_was_made_plain

__all__ = [
    "CampaignCost",
    "CostFlag",
    "PlainTemplate",
    "TextCost",
    "cost_to_come",
    "launch_cost",
    "plain_templates",
    "text_costs",
    "what_was_made_plain",
]
