"""`make run` uses SQLite: booking, the daily limit, the outbox and the cost of a launch must work
there too."""

from tests.sqlite import on_sqlite

SCRIPT = """
import datetime as dt
from zoneinfo import ZoneInfo
from campaigns import audience
from campaigns import services
from campaigns.models import CampaignSend
from contacts.models import Contact
from contacts.timezones import assign_time_zones
from messaging import outbox

monday_10 = dt.datetime(2024, 1, 15, 10, tzinfo=ZoneInfo("America/New_York"))
Contact.objects.bulk_create(Contact(phone=f"+1617200{n:04d}", first_name="Pat", state="MA") for n in range(150))
print("zones", assign_time_zones())
campaign = services.create_campaign(name="Local", template_a="Hi {name}", from_number="+16175550100")
audience.add_contacts_by_filter(campaign=campaign, filters={"state": "MA"})
from campaigns import costs, selectors
from campaigns.calendar import BusinessCalendar
plan = selectors.launch_plan(campaign, starts_at=monday_10, calendar=BusinessCalendar.from_settings())
print("cost", costs.launch_cost(campaign, plan.foreseen).segments)
result = services.start_campaign(campaign=campaign, now=monday_10)
print("booked", result.sent, "queued", result.queued)
first = CampaignSend.objects.order_by("scheduled_for").first()
print("delivered", outbox.deliver_message(first.message.pk, now=first.scheduled_for))
print("dispatched", outbox.dispatch(now=monday_10 + dt.timedelta(minutes=2))["messages"])
"""


def test_a_campaign_books_and_sends_on_sqlite_with_the_console_backend(sqlite_database):
    as_make_run = {
        "DJANGO_SETTINGS_MODULE": "attackacrack.settings",  # as `make run` reads them, not the suite's
        "REDIS_URL": "",
        "SMS_BACKEND": "messaging.backends.console.SMSBackend",
    }

    out = on_sqlite(sqlite_database, "manage.py", "shell", "-c", SCRIPT, env=as_make_run)

    assert "zones 150" in out
    assert "cost 150" in out  # "Hi Pat" and the footer: one segment each, counted in Python
    assert "booked 125 queued 25" in out
    assert "delivered sent" in out
    assert "To: +16172000" in out and "Hi Pat" in out  # the console backend printed the text
    assert "dispatched 1" in out  # by 10:02 one more slot (10:01:12) has come
