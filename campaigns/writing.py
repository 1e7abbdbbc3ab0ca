"""Writing campaign texts: the one place a template becomes the text a member reads, and the
previews staff check before a campaign starts (each variant, a member at a time, the tokens some
members have no value for)."""

from dataclasses import dataclass

from django.db.models import CharField, Count, F, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from campaigns import foresight, selectors, texts
from campaigns.models import Campaign, CampaignContact, Variant
from contacts.models import Contact, Property
from contacts.selectors import home_links
from messaging import segments
from messaging.models import Message


@dataclass(frozen=True)
class Reader:
    """Whom a text is written for: the contact, the house it speaks of, and whether it is the
    contact's first text from us (which carries the opt-out footer when the campaign asks)."""

    contact: Contact
    home: Property | None
    first_text: bool
    is_sample: bool = False

    @classmethod
    def of(cls, contact: Contact) -> "Reader":
        # A campaign text booked but not yet written is no text they have had (its own included).
        written = Message.objects.written().filter(contact_id=contact.pk, direction=Message.Direction.OUTBOUND)
        return cls(contact=contact, home=contact.home, first_text=contact.pk is None or not written.exists())


# Whom previews are written for while a campaign has no audience yet.
SAMPLE_READER = Reader(
    contact=Contact(first_name="Mary", last_name="Sullivan", city="Quincy", state="MA", address="12 Elm St"),
    home=Property(address="12 Elm St", city="Quincy", year_built=1954),
    first_text=True,
    is_sample=True,
)


def write_text(*, template: str, reader: Reader, include_opt_out_footer: bool) -> str:
    """A template filled in for its reader: the one place a campaign text is written."""
    text = texts.render(template, texts.contact_values(reader.contact, reader.home))
    return texts.with_opt_out_footer(text) if include_opt_out_footer and reader.first_text else text


def campaign_text(*, campaign: Campaign, contact: Contact, variant: str) -> str:
    """The exact text a contact gets from a campaign as ``variant``, the one its booking recorded
    (a winner declared after the booking does not change it: the results count it under that one)."""
    return write_text(
        template=campaign.template_for(variant),
        reader=Reader.of(contact),
        include_opt_out_footer=campaign.include_opt_out_footer,
    )


def preview_reader(campaign: Campaign | None) -> Reader:
    """Whom a campaign's previews are written for: its audience's first member, else the sample."""
    member = campaign.memberships.select_related("contact").order_by("id").first() if campaign else None
    return Reader.of(member.contact) if member else SAMPLE_READER


@dataclass(frozen=True)
class PreviewedMember:
    """One audience member a preview is written for, with the members before and after it."""

    member: CampaignContact
    reader: Reader
    position: int  # 1-based, in the order members were added
    count: int
    previous_id: int | None
    next_id: int | None


def previewed_member(
    campaign: Campaign, member_id: int | None = None, *, audience: int | None = None
) -> PreviewedMember | None:
    """The member ``member_id`` (else the first), to step through the audience a text at a time;
    ``audience`` is its size when the caller has counted it already."""
    members = campaign.memberships.select_related("contact")
    member = members.filter(pk=member_id).first() if member_id else None
    if member is None:
        first = selectors.first_members(members, 1)
        if not first:
            return None
        member = first[0]
    # Each read stops near the member: the page steps through a 100,000-member audience too.
    before = campaign.memberships.filter(id__lt=member.pk)
    return PreviewedMember(
        member=member,
        reader=Reader.of(member.contact),
        position=before.count() + 1,
        count=audience if audience is not None else campaign.memberships.count(),
        previous_id=before.order_by("-id").values_list("id", flat=True).first(),
        next_id=campaign.memberships.filter(id__gt=member.pk).order_by("id").values_list("id", flat=True).first(),
    )


def text_readers(campaign: Campaign, foreseen: foresight.Foreseen | None = None) -> QuerySet[CampaignContact]:
    """The members who got or will get one of the campaign's texts, each with ``reads``, which one
    (B only when the campaign has a text B: Campaign.template_for); not those kept out (or, before
    the first run, those the rules already keep out: ``foreseen``), nor those a cancel left untexted."""
    kept_out = foreseen.ids_by_status().get(CampaignContact.Status.INELIGIBLE, []) if foreseen else []
    members = (
        selectors.audience_members(campaign)
        .exclude(status=CampaignContact.Status.INELIGIBLE)
        .exclude(pk__in=kept_out)
        .filter(never_sent=False)
    )
    if not campaign.template_b:
        reads = Value(Variant.A, output_field=CharField())
    elif campaign.winner:
        reads = F("text_variant")
    else:
        reads = F("variant")  # before a winner every booking is of its member's own variant
    return members.annotate(reads=reads)


@dataclass(frozen=True)
class MissingValue:
    """The members of one text who lack a value for a token it uses, and what they read instead."""

    variant: str
    token: str
    members: int
    fallback: str  # the token's own, else its default; "" leaves the token out of the sentence
    example: "TextPreview"  # the whole text one of them gets


def _has_value(token: str) -> Q:
    """The members who have a value for ``token``, read from the fields the token reads
    (texts.TOKEN_FIELDS: the contact's, else its home's): an expression on memberships annotated
    with their home's values as ``home_<field>``."""
    if token == "year_built":
        return Q(home_year_built__isnull=False) & ~Q(home_year_built=0)
    has_value = Q(pk__in=[])
    for model, field in texts.TOKEN_FIELDS[token]:
        has_value |= ~Q(**{f"contact__{field}" if model == "contacts.Contact" else f"home_{field}": ""})
    return has_value


def missing_values(campaign: Campaign, foreseen: foresight.Foreseen | None = None) -> list[MissingValue]:
    """For each text and each token it uses, how many of the members who get that text lack the
    token's value (by the same rule the text is written with), and the text one of them reads."""
    uses: dict[str, dict[str, str]] = {}  # text → its tokens, each with its fallback
    for variant in [Variant.A, Variant.B] if campaign.template_b else [Variant.A]:
        for piece in texts.parse_template(campaign.template_for(variant)):
            if isinstance(piece, texts.Token):
                uses.setdefault(variant, {}).setdefault(piece.name, piece.fallback)
    tokens = {token for used in uses.values() for token in used}
    if not tokens:
        return []
    # Only the house values the templates read: each is a subquery per member.
    house_fields = {"year_built"} if "year_built" in tokens else set()
    house_fields |= {
        field for token in tokens for model, field in texts.TOKEN_FIELDS.get(token, ()) if model == "contacts.Property"
    }

    def home_value(field: str) -> Subquery | Coalesce:
        value = Subquery(home_links().values(f"property__{field}")[:1])
        return value if field == "year_built" else Coalesce(value, Value(""))  # no house: blank, not NULL

    members = text_readers(campaign, foreseen).annotate(
        **{f"home_{field}": home_value(field) for field in house_fields}
    )
    # One count a token, the missing value as the condition: the database can then start from the
    # few contacts who lack it instead of reading the whole audience once for every token.
    counts = {
        token: dict(members.filter(~_has_value(token)).order_by().values_list("reads").annotate(n=Count("id")))
        for token in tokens
    }
    missing = []
    for variant, used in uses.items():
        for token, fallback in used.items():
            if not counts[token].get(variant):
                continue
            lacking = members.filter(~_has_value(token), reads=variant).select_related("contact").order_by("id")
            example = preview(
                variant=variant,
                template=campaign.template_for(variant),
                reader=Reader.of(lacking.first().contact),
                include_opt_out_footer=campaign.include_opt_out_footer,
            )
            missing.append(MissingValue(variant, token, counts[token][variant], fallback, example))
    return missing


@dataclass(frozen=True)
class TextPreview:
    variant: str
    text: str
    cost: segments.SmsCost


def preview(*, variant: str, template: str, reader: Reader, include_opt_out_footer: bool) -> TextPreview:
    text = write_text(template=template, reader=reader, include_opt_out_footer=include_opt_out_footer)
    return TextPreview(variant=variant, text=text, cost=segments.sms_cost(text))


def text_previews(*, campaign: Campaign, reader: Reader) -> list[TextPreview]:
    variants = [Variant.A, Variant.B] if campaign.template_b else [Variant.A]
    return [
        preview(
            variant=variant,
            template=campaign.template_for(variant),
            reader=reader,
            include_opt_out_footer=campaign.include_opt_out_footer,
        )
        for variant in variants
    ]
