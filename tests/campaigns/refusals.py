"""A campaign whose members are not texted for every kind of reason, each one refused by the code
that refuses it in production: a text another campaign really sent, numbers from an import, a
line staff marked as a landline, a Do-Not-Call list loaded (and one gone stale), an opt-out, a
person who wrote to us, Connecticut's law, and a text OpenPhone refused (faked with ``responses``)."""

import datetime as dt
import io
import json
from dataclasses import dataclass

import responses
from freezegun import freeze_time

from bench.fake_openphone import error_body
from campaigns import audience, booking
from campaigns.models import Campaign, CampaignContact
from contacts import dnc
from contacts import services as contact_services
from contacts.importing import pipeline
from contacts.models import Contact
from contacts.timezones import assign_time_zones
from messaging import outbox
from messaging import services as messaging_services
from tests.campaigns.conftest import eastern
from tests.factories import SHOP_NUMBER, CampaignFactory, ContactFactory, InboundMessageFactory
from tests.messaging.conftest import OPENPHONE, accepted

NOW = eastern(2026, 12, 1, 10, 0)  # a Tuesday
REFUSED_BY_OPENPHONE = "Invalid 'to' number"


@dataclass
class Refusals:
    spring: Campaign  # texted "texted" this morning
    fall: Campaign  # the campaign with every kind of refusal
    people: dict[str, Contact]

    def member(self, name: str) -> CampaignContact:
        return self.fall.memberships.get(contact=self.people[name])


def person(phone: str, *, state: str = "MA", zip_code: str = "02169", **fields) -> Contact:
    made = ContactFactory(
        phone=phone, state=state, zip_code=zip_code, last_name="Example", time_zone="", time_zone_source="unknown",
        **fields,
    )  # fmt: skip
    assign_time_zones()
    made.refresh_from_db()
    return made


def deliver_all(at: dt.datetime) -> list[str]:
    with freeze_time(at):
        return [outbox.deliver_message(pk) for pk in outbox.due_texts(now=at).values_list("pk", flat=True)]


def refusals(openphone: responses.RequestsMock) -> Refusals:
    """Spring texts one person at 10:00; fall runs at 10:10 over an audience refused every way."""
    people = {
        "texted": person("+16172003001", first_name="Tess"),
        "landline": person("+16172003002", first_name="Lena"),
        "listed": person("+16172003003", first_name="Lisa"),
        "opted_out": person("+16172003004", first_name="Otto"),
        "wrote_us": person("+16172003005", first_name="Walt"),
        "in_connecticut": person("+18605550123", state="CT", zip_code="06103", first_name="Connie"),
        "stale_list": person("+17815550199", zip_code="02184", first_name="Stan"),
        "failing": person("+16172003006", first_name="Fay"),
        "fine": person("+16172003007", first_name="Finn"),
    }

    def answer(request):
        if json.loads(request.body)["to"] == [people["failing"].phone]:
            return 404, {"Content-Type": "application/json"}, json.dumps(error_body(404, REFUSED_BY_OPENPHONE))
        return accepted(f"AC{len(openphone.calls)}")(request)

    openphone.add_callback(responses.POST, f"{OPENPHONE}/v1/messages", callback=answer)
    with freeze_time(NOW):
        dnc.load_list(io.BytesIO(b"617,2003003\n"), list_name="national", as_of=dt.date(2026, 11, 30))
        dnc.load_list(io.BytesIO(b"781,5550100\n"), list_name="national", as_of=dt.date(2026, 10, 15))
        contact_services.update_contact(contact=people["landline"], line_type=Contact.LineType.LANDLINE)
        messaging_services.opt_out(contact=people["opted_out"], reason="Replied 'STOP'")
    InboundMessageFactory(contact=people["wrote_us"], body="Do you fix basements?")

    spring = CampaignFactory(name="Spring", status=Campaign.Status.ACTIVE, from_number=SHOP_NUMBER, template_b="")
    audience.add_contacts_by_id(campaign=spring, contact_ids=[people["texted"].pk])
    with freeze_time(NOW):
        booking.execute_campaign(campaign_id=spring.pk)
    assert deliver_all(NOW + dt.timedelta(minutes=3)) == ["sent"]

    fall = CampaignFactory(name="Fall", status=Campaign.Status.ACTIVE, from_number=SHOP_NUMBER, template_b="")
    audience.add_contacts_by_id(campaign=fall, contact_ids=[contact.pk for contact in people.values()])
    imported = b"Name,Phone,City,State,ZIP\nTodd Free,888-555-0102,Quincy,MA,02169\nMaple Leaf,416-555-0103,Toronto,,\n"
    pipeline.import_contacts(file=io.BytesIO(imported), file_name="more.csv", campaign=fall)
    people["toll_free"] = Contact.objects.get(phone="+18885550102")
    people["foreign"] = Contact.objects.get(phone="+14165550103")
    with freeze_time(NOW + dt.timedelta(minutes=10)):
        booking.execute_campaign(campaign_id=fall.pk)
    assert sorted(deliver_all(NOW + dt.timedelta(minutes=14))) == ["failed", "sent"]
    return Refusals(spring=spring, fall=fall, people=people)
