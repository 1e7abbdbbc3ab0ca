"""What a campaign's texts cost, per text, and what makes some cost more, said with what it costs:
a character of the template with no plain equivalent (every text UCS-2), members' values outside
GSM-7 (their text UCS-2), values long enough to need another segment.

Each group of members whose texts cost the same (``counting``) has its text written once, with
one-character stand-ins for its values, through the same ``texts.render`` (a missing value reads
its fallback), then its length is made up to the group's. An audience of 100,000 is a few dozen
texts written, not 100,000, and each member's cost is their own.
"""

import collections
import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import CharField, F, QuerySet, Value
from django.db.models.functions import Cast

from attackacrack.estimates import count_up_to
from campaigns import foresight, texts, writing
from campaigns.costs.counting import Readers, readers, token_uses
from campaigns.costs.plain import segments_said
from campaigns.models import Campaign, CampaignContact, Variant
from messaging import plain_text
from messaging.segments import GSM7_ENCODING, dollars, encoded_length, outside_gsm7, segments_of

TOKEN_NOUNS = {
    "name": ("first name", "first names"),
    "first_name": ("first name", "first names"),
    "last_name": ("last name", "last names"),
    "city": ("city", "cities"),
    "address": ("address", "addresses"),
    "year_built": ("year built", "years built"),
}


# Beyond this many members, the texts of the rest of an audience (after the head the rules have
# judged) are estimated from a sample of this many: writing a member's text costs a look-up of
# their home and of whether we texted them before, about 5 µs, and a page has 150 ms.
SAMPLE = 2_000
# The members whose texts are still to come: waiting, booked (not yet written) or awaiting a review.
TO_COME = (CampaignContact.Status.PENDING, CampaignContact.Status.SCHEDULED, CampaignContact.Status.FLAGGED)


@dataclass(frozen=True)
class CostFlag:
    """Something that makes some texts cost more, with what it costs: a character of the template
    with no plain equivalent (``cause`` "template"), members' values outside GSM-7 (the token),
    or values long enough to need another segment ("length")."""

    variant: str
    cause: str
    members: int
    segments: int  # a text of theirs (the most common count)
    instead: int  # without the cause
    extra: int  # the segments the cause adds, over all of them
    estimated: bool = False  # counted from a sample
    characters: tuple[str, ...] = ()  # the template's, for "template"
    examples: tuple[str, ...] = ()  # a few of the values, for a token
    tokens: tuple[str, ...] = ()  # the template's tokens, for "length"

    @property
    def dollars(self) -> Decimal:
        return dollars(self.extra)

    @property
    def message(self) -> str:
        about = "about " if self.estimated else ""
        more = f"{segments_said(self.segments)} instead of {self.instead}, {about}+${self.dollars:,.2f}"
        if self.cause == "template":
            named = plain_text.names_of(list(self.characters))
            verb = "makes" if len(named.split(" and ")) == 1 else "make"
            fixable = [char for char in self.characters if char in plain_text.PLAIN]
            again = f" Saving the campaign again replaces {' '.join(fixable)} with plain characters." if fixable else ""
            return f"Text {self.variant}: {named} {verb} every text UCS-2: {more} for this campaign.{again}"
        whose = "member's" if self.members == 1 else "members'"
        counted = f"{about}{self.members:,} {whose}"
        if self.cause == "length":
            nouns = _listed_nouns(self.tokens, plural=self.members != 1)
            verb = "makes" if self.members == 1 and len(self.tokens) == 1 else "make"
            return f"Text {self.variant}: {counted} longer {nouns} {verb} their text {more}."
        singular, plural = TOKEN_NOUNS[self.cause]
        noun = singular if self.members == 1 else plural
        examples = f" ({', '.join(self.examples)})" if self.examples else ""
        verb = "makes" if self.members == 1 else "make"
        return f"Text {self.variant}: {counted} {noun}{examples} {verb} their text UCS-2: {more}."


def _listed_nouns(tokens: Iterable[str], *, plural: bool) -> str:
    nouns = list(dict.fromkeys(TOKEN_NOUNS[token][1 if plural else 0] for token in tokens))
    return nouns[0] if len(nouns) == 1 else f"{', '.join(nouns[:-1])} or {nouns[-1]}"


@dataclass(frozen=True)
class TextCost:
    """What one text (A or B) costs for the members who get it, each text written with their own values."""

    variant: str
    members: int
    segments: int
    by_segments: dict[int, int]  # segments a text → how many members' texts are that long
    flags: tuple[CostFlag, ...] = ()
    estimated: bool = False  # some of it counted from a sample

    @property
    def dollars(self) -> Decimal:
        return dollars(self.segments)


@dataclass(frozen=True)
class CampaignCost:
    """What a campaign's texts to come cost, per text, and whether that is an estimate: part of
    it counted from a sample, or counting members the rules judge only when their turn comes."""

    texts: list[TextCost]
    estimated: bool

    @property
    def members(self) -> int:
        return sum(cost.members for cost in self.texts)

    @property
    def segments(self) -> int:
        return sum(cost.segments for cost in self.texts)

    @property
    def dollars(self) -> Decimal:
        return dollars(self.segments)

    @property
    def flags(self) -> list[CostFlag]:
        return [flag for cost in self.texts for flag in cost.flags]

    def of(self, variant: str) -> TextCost | None:
        return next((cost for cost in self.texts if cost.variant == variant), None)


def launch_cost(campaign: Campaign, foreseen: foresight.Foreseen) -> CampaignCost:
    """What the texts to the members a launch counts (``foreseen.textable``) will cost: the head
    of the queue's each counted, the rest's estimated from a sample when they are many."""
    # Not booked yet: the winner's text once there is one, else their own variant's (A without a B).
    reads = Value(campaign.winner or Variant.A) if campaign.winner or not campaign.template_b else F("variant")
    members = foresight.textable_members(campaign, foreseen).annotate(reads=Cast(reads, CharField()))
    head = foreseen.judged_ids - set(foreseen.holds)
    texts = text_costs(campaign, members, head=head, rest=foreseen.textable - len(head))
    return CampaignCost(texts=texts, estimated=foreseen.judged_later > 0 or any(cost.estimated for cost in texts))


def cost_to_come(campaign: Campaign, foreseen: foresight.Foreseen | None) -> CampaignCost:
    """What the campaign's texts not yet written will cost: to every member who will get one
    (``writing.text_readers``) but has not. Texts already sent are the results' to count.

    Those members are the ones waiting, booked or flagged, less those the rules already keep out
    (``foreseen``): counted so, on the index of members' statuses, up to ``SAMPLE`` beyond the
    head, and past it the planner's estimate, as the sample's share is one anyway."""
    members = writing.text_readers(campaign, foreseen).exclude(status=CampaignContact.Status.SENT)
    head = foreseen.judged_ids if foreseen is not None else frozenset()
    if campaign.status == Campaign.Status.CANCELLED:
        to_come = members  # nobody the cancel left untexted: a few, if any
    else:
        to_come = campaign.memberships.filter(status__in=TO_COME)
    kept_out = len(foreseen.ids_by_status().get(CampaignContact.Status.INELIGIBLE, [])) if foreseen else 0
    in_head = members.filter(pk__in=head).count() if head else 0
    rest = count_up_to(to_come, SAMPLE + len(head) + kept_out).value - kept_out - in_head
    texts = text_costs(campaign, members, head=head, rest=rest)
    if foreseen is not None:
        judged_later = foreseen.judged_later > 0
    else:
        judged_later = members.filter(status=CampaignContact.Status.PENDING).exists()
    return CampaignCost(texts=texts, estimated=judged_later or any(cost.estimated for cost in texts))


def text_costs(
    campaign: Campaign, members: QuerySet[CampaignContact], *, head: frozenset[int] = frozenset(), rest: int = 0
) -> list[TextCost]:
    """What the campaign's texts to ``members`` cost, per text: ``members`` carry ``reads``, the
    text each gets (as ``writing.text_readers`` annotates them). A text nobody gets is left out.

    When ``rest``, the members not in ``head``, are more than ``SAMPLE``, the head's texts are
    each counted and the rest's estimated from a sample of ``SAMPLE`` of them waiting, read in
    ``STRETCHES`` stretches spread along the queue (``_stretches_of_the_queue``)."""
    templates = {variant: campaign.template_for(variant) for variant in [Variant.A, Variant.B]}
    if not campaign.template_b:
        del templates[Variant.B]
    footer = campaign.include_opt_out_footer
    if rest <= SAMPLE:
        groups = readers(members, templates, footer=footer)
    else:
        drawn = _stretches_of_the_queue(campaign)
        sample = readers(members.exclude(pk__in=head).filter(pk__in=drawn), templates, footer=footer)
        scale = rest / max(1, sum(group.members for group in sample))
        scaled = [dataclasses.replace(group, members=round(group.members * scale), estimated=True) for group in sample]
        groups = readers(members.filter(pk__in=head), templates, footer=footer) + [g for g in scaled if g.members]
    return [
        _text_cost(variant, template, [group for group in groups if group.variant == variant], footer=footer)
        for variant, template in templates.items()
        if any(group.variant == variant for group in groups)
    ]


# The sample is read as this many stretches of the queue, evenly spread: each an index range read.
STRETCHES = 20


def _stretches_of_the_queue(campaign: Campaign) -> list[int]:
    """The ids of ``SAMPLE`` of the campaign's waiting members, in ``STRETCHES`` stretches spread
    evenly along the queue: the queue's order mixes the variants and the lists they came from as
    the whole audience does, and each stretch is a range read on the queue's index alone, whatever
    the audience's size (a sample drawn by hashing every id read the whole audience: 0.5 s for a
    million). Of them, the members whose texts are costed are the sample."""
    waiting = campaign.memberships.filter(status=CampaignContact.Status.PENDING).order_by("queue_position", "id")
    last = waiting.reverse().values_list("queue_position", flat=True).first()
    if last is None:
        return []
    stretches = min(STRETCHES, SAMPLE)
    reads = [
        waiting.filter(queue_position__gte=last * index / stretches).values_list("id", flat=True)[: SAMPLE // stretches]
        for index in range(stretches)
    ]
    if connection.features.supports_slicing_ordering_in_compound:
        return list(reads[0].union(*reads[1:], all=True))  # one statement (SQLite reads them one by one)
    return [member_id for read in reads for member_id in read]


def _text_cost(variant: str, template: str, groups: list[Readers], *, footer: bool) -> TextCost:
    uses = token_uses(template)
    outside = tuple(outside_gsm7(template))
    plain_template = "".join("?" if char in outside else char for char in template)
    by_segments: collections.Counter = collections.Counter()
    rows = []
    for group in groups:
        written = _written_segments(template, group, uses, footer=footer)
        with_plain_template = _written_segments(plain_template, group, uses, footer=footer) if outside else written
        with_plain_values = (
            _written_segments(plain_template, group, uses, footer=footer, plain_values=True)
            if group.not_plain
            else with_plain_template
        )
        by_segments[written] += group.members
        rows.append((group, written, with_plain_template, with_plain_values))
    # What a text usually costs, with and without the footer: a longer one is flagged against it.
    usual = {}
    for first_text in (True, False):
        lengths: collections.Counter = collections.Counter()
        for group, _, _, plain in rows:
            if group.first_text == first_text:
                lengths[plain] += group.members
        if lengths:
            usual[first_text] = lengths.most_common(1)[0][0]
    flags: dict[str, list] = collections.defaultdict(list)
    for group, written, with_plain_template, with_plain_values in rows:
        if written > with_plain_template:
            flags["template"].append((group, written, with_plain_template))
        if with_plain_template > with_plain_values:
            flags[min(group.not_plain)].append((group, with_plain_template, with_plain_values))
        if with_plain_values > usual[group.first_text]:
            flags["length"].append((group, with_plain_values, usual[group.first_text]))
    return TextCost(
        variant=variant,
        members=sum(by_segments.values()),
        segments=sum(segments * members for segments, members in by_segments.items()),
        by_segments=dict(sorted(by_segments.items())),
        flags=tuple(_flag(variant, cause, flags[cause], outside, uses) for cause in sorted(flags, key=_first_said)),
        estimated=any(group.estimated for group in groups),
    )


def _first_said(cause: str) -> tuple[int, str]:
    """The template's characters first (they cost every text), then the members' values, then lengths."""
    return ({"template": 0, "length": 2}.get(cause, 1), cause)


def _flag(variant: str, cause: str, found: list, outside: tuple[str, ...], uses: collections.Counter) -> CostFlag:
    most: collections.Counter = collections.Counter()
    instead: collections.Counter = collections.Counter()
    for group, segments, without in found:
        most[segments] += group.members
        instead[without] += group.members
    examples = dict.fromkeys(group.examples[cause] for group, _, _ in found if cause in group.examples)
    return CostFlag(
        variant=variant,
        cause=cause,
        members=sum(group.members for group, _, _ in found),
        segments=most.most_common(1)[0][0],
        instead=instead.most_common(1)[0][0],
        extra=sum(group.members * (segments - without) for group, segments, without in found),
        estimated=any(group.estimated for group, _, _ in found),
        characters=outside if cause == "template" else (),
        examples=tuple(sorted(examples)[:3]),
        tokens=tuple(token for token in uses if token != "year_built") if cause == "length" else (),
    )


# Stand-ins for a value: plain, and outside GSM-7; one unit long in either encoding.
PLAIN_STAND_IN, UCS2_STAND_IN = "a", "ł"


def _written_segments(
    template: str, group: Readers, uses: collections.Counter, *, footer: bool, plain_values: bool = False
) -> int:
    """The segments of the group's text: written once with one-unit stand-ins for its values
    (through texts.render, so a missing value reads its fallback), then made up to their length."""
    stand_ins = {
        token: ""
        if token in group.empty
        else UCS2_STAND_IN
        if token in group.not_plain and not plain_values
        else PLAIN_STAND_IN
        for token in uses
    }
    text = texts.render(template, stand_ins)
    if footer and group.first_text:
        text = texts.with_opt_out_footer(text)
    encoding, units = encoded_length(text)
    stood_in = sum(count for token, count in uses.items() if token not in group.empty)
    values = group.septets if encoding == GSM7_ENCODING else group.ucs2_units
    return segments_of(units - stood_in + values, encoding=encoding)
