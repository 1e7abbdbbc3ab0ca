"""Factories for every model, shared by the whole suite."""

import json

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from attackacrack import roles
from campaigns.models import Campaign, CampaignContact, CampaignSend, Outcome
from contacts.models import Contact, Property, PropertyContact
from messaging.models import Message, WebhookEvent
from messaging.segments import sms_cost

SHOP_NUMBER = "+16175550100"


class StaffUserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True  # the role hook saves what it changes

    username = factory.Sequence(lambda n: f"staff{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    is_staff = True
    password = factory.django.Password("correct horse battery staple")

    @factory.post_generation
    def role(user, create: bool, extracted: str | None, **kwargs) -> None:
        """``StaffUserFactory(role="owner")`` for the owner; staff otherwise."""
        if create and user.is_staff:
            roles.assign_role(user, extracted or roles.STAFF)


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    # 617-2xx-xxxx: valid Boston numbers, distinct per contact.
    phone = factory.Sequence(lambda n: f"+1617{2000000 + n:07d}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda c: f"{c.first_name}.{c.last_name}@example.com".lower())
    address = factory.Faker("street_address")
    city = "Quincy"
    state = "MA"
    zip_code = "02169"
    source = "csv"
    time_zone = "America/New_York"
    time_zone_source = Contact.TimeZoneSource.ADDRESS


class PropertyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Property

    address = factory.Sequence(lambda n: f"{n + 1} ELM ST")
    address_key = factory.LazyAttribute(lambda p: p.address.upper())
    city = "QUINCY"
    state = "MA"
    zip_code = "02169"
    apn = factory.Sequence(lambda n: f"RAND-{n:06d}-B000000-000008")
    year_built = 1954
    estimated_value = 650000


class PropertyContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PropertyContact

    property = factory.SubFactory(PropertyFactory)
    contact = factory.SubFactory(ContactFactory)
    role = PropertyContact.Role.PRIMARY


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Campaign {n}")
    template_a = "Hi {name}, special offer!"
    template_b = "Hello {name}, exclusive deal!"


class CampaignContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CampaignContact

    campaign = factory.SubFactory(CampaignFactory)
    contact = factory.SubFactory(ContactFactory)
    variant = "A"
    queue_position = factory.Sequence(float)


SEND_TEXT_FIELDS = ("status", "sent_at", "delivered_at", "attempts", "error", "segments")


class CampaignSendFactory(factory.django.DjangoModelFactory):
    """A booking and its text, as booking makes them: the text waits for its slot unless told
    otherwise (``status``, ``sent_at``, ``delivered_at``, ``attempts``, ``error``, ``segments``
    are the text's; a ``cancelled_reason`` cancels it)."""

    class Meta:
        model = CampaignSend

    campaign = factory.SubFactory(CampaignFactory)
    contact = factory.SubFactory(ContactFactory)
    variant = "A"
    from_number = SHOP_NUMBER
    scheduled_for = factory.LazyFunction(timezone.now)
    business_date = factory.LazyAttribute(lambda s: timezone.localdate(s.scheduled_for))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        text = {name: kwargs.pop(name) for name in SEND_TEXT_FIELDS if name in kwargs}
        if cancelled_reason := kwargs.pop("cancelled_reason", ""):
            text.update(status=Message.Status.CANCELLED, error=f"Not sent: {cancelled_reason}")
        send = super()._create(model_class, *args, **kwargs)
        status = text.setdefault("status", Message.Status.QUEUED)
        written = status not in (Message.Status.QUEUED, Message.Status.CANCELLED)
        unwritten = {} if written else {"body": "", "external_id": ""}
        send.message = MessageFactory(
            kind=Message.Kind.CAMPAIGN,
            contact=send.contact,
            from_number=send.from_number,
            campaign=send.campaign,
            campaign_send=send,
            created_at=send.scheduled_for,
            next_attempt_at=send.scheduled_for if status == Message.Status.QUEUED else None,
            **{"sent_at": None, **unwritten, **text},
        )
        return send


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    contact = factory.SubFactory(ContactFactory)
    direction = Message.Direction.OUTBOUND
    kind = Message.Kind.STAFF
    body = "Hi, this is Attack-a-Crack following up on your foundation."
    from_number = SHOP_NUMBER
    to_number = factory.LazyAttribute(lambda m: m.contact.phone)
    status = Message.Status.SENT
    created_at = factory.LazyFunction(timezone.now)
    status_changed_at = factory.LazyAttribute(lambda m: m.created_at)
    sent_at = factory.LazyAttribute(lambda m: m.created_at)
    external_id = factory.Sequence(lambda n: f"AC{n:032x}")
    # What a written outbound text is billed as, as the outbox sets it.
    segments = factory.LazyAttribute(
        lambda m: sms_cost(m.body).segments if m.direction == Message.Direction.OUTBOUND and m.body else None
    )


class InboundMessageFactory(MessageFactory):
    direction = Message.Direction.INBOUND
    kind = Message.Kind.REPLY
    body = "Yes, how much?"
    from_number = factory.LazyAttribute(lambda m: m.contact.phone)
    to_number = SHOP_NUMBER
    status = Message.Status.RECEIVED
    sent_at = None


class OutcomeFactory(factory.django.DjangoModelFactory):
    """What came of a conversation. Given ``answered`` (a reply to a campaign text), it is
    attributed to that text's campaign and variant, as recording one attributes it; a job won
    has an amount."""

    class Meta:
        model = Outcome

    contact = factory.LazyAttribute(lambda o: o.answered.contact if o.answered else ContactFactory())
    kind = Outcome.Kind.INSPECTION_BOOKED
    on = factory.LazyFunction(timezone.localdate)
    amount = factory.LazyAttribute(lambda o: 5000 if o.kind == Outcome.Kind.JOB_WON else None)
    answered = None
    campaign = factory.LazyAttribute(lambda o: o.answered.in_reply_to_send.campaign if o.answered else None)
    variant = factory.LazyAttribute(lambda o: o.answered.in_reply_to_send.variant if o.answered else "")
    recorded_at = factory.LazyFunction(timezone.now)


class WebhookEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookEvent

    event_id = factory.Sequence(lambda n: f"EV{n:032x}")
    event_type = "message.received"
    signature_scheme = WebhookEvent.SignatureScheme.LEGACY
    payload = factory.LazyAttribute(lambda e: {"id": e.event_id, "type": e.event_type, "data": {"object": {}}})
    raw_body = factory.LazyAttribute(lambda e: json.dumps(e.payload).encode())
    status = WebhookEvent.Status.PENDING
    # Each status with the times its row must have (the model's check constraint).
    next_attempt_at = factory.LazyAttribute(lambda e: timezone.now() if e.status == "pending" else None)
    processed_at = factory.LazyAttribute(lambda e: timezone.now() if e.status == "processed" else None)
