"""Templates saved plain: curly quotes, long dashes, the ellipsis and their like replaced by
their GSM-7 equivalents when a campaign is saved (messaging.plain_text), and what that saved."""

from dataclasses import dataclass

from campaigns import writing
from campaigns.models import Campaign, Variant
from messaging import plain_text
from messaging.segments import outside_gsm7, sms_cost

TEMPLATE_FIELDS = {"template_a": Variant.A, "template_b": Variant.B}


@dataclass(frozen=True)
class PlainTemplate:
    """A template saved plainer than it was typed: what was replaced, and what a text of it
    (for the campaign's preview reader, `writing.preview_reader`) costs before and after."""

    field: str
    variant: str
    replacements: tuple[plain_text.Replacement, ...]
    segments_before: int
    segments_after: int
    still_outside: tuple[str, ...]  # what keeps it UCS-2: no plain equivalent

    @property
    def message(self) -> str:
        done = plain_text.summary(self.replacements)
        if self.segments_after < self.segments_before:
            cost = f"each text now costs {segments_said(self.segments_after)} instead of {self.segments_before}"
        elif self.still_outside:
            cost = (
                f"each text still costs {segments_said(self.segments_after)}: "
                f"{plain_text.names_of(list(self.still_outside))} keeps it UCS-2"
            )
        else:
            cost = f"each text costs {segments_said(self.segments_after)}, as before"
        return f"Text {self.variant}: {done}: {cost}."


def segments_said(count: int) -> str:
    return f"{count} segment{'' if count == 1 else 's'}"


def plain_templates(fields: dict) -> tuple[dict, dict[str, plain_text.Normalised]]:
    """The fields with their templates made plain, and what was made plain in each (only those changed)."""
    made_plain = {
        name: plain_text.normalise(fields[name]) for name in TEMPLATE_FIELDS if isinstance(fields.get(name), str)
    }
    made_plain = {name: normalised for name, normalised in made_plain.items() if normalised.changed}
    return fields | {name: normalised.text for name, normalised in made_plain.items()}, made_plain


def what_was_made_plain(
    campaign: Campaign, made_plain: dict[str, plain_text.Normalised], *, typed: dict
) -> tuple[PlainTemplate, ...]:
    """What saving ``campaign`` made plain, with a text's cost before and after."""
    if not made_plain:
        return ()
    reader = writing.preview_reader(campaign)

    def cost(template: str) -> int:
        text = writing.write_text(
            template=template, reader=reader, include_opt_out_footer=campaign.include_opt_out_footer
        )
        return sms_cost(text).segments

    return tuple(
        PlainTemplate(
            field=name,
            variant=TEMPLATE_FIELDS[name],
            replacements=normalised.replacements,
            segments_before=cost(typed[name]),
            segments_after=cost(normalised.text),
            still_outside=tuple(outside_gsm7(normalised.text)),
        )
        for name, normalised in made_plain.items()
    )
