"""The Contacts page: how many contacts there are and how many the search finds, pages newest
first with First, Previous and Next that keep the search, and a clear refusal of a bad link."""

import html
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contacts import selectors
from contacts.models import Contact
from contacts.selectors import COUNTED_UP_TO
from contacts.views import PER_PAGE
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

URL = reverse("contacts:list")


def people(count: int, *, city: str, first_phone: int = 0) -> list[int]:
    """``count`` contacts in ``city``, oldest first; their ids."""
    made = Contact.objects.bulk_create(
        Contact(phone=f"+1617555{first_phone + n:04d}", first_name=f"{city} {n}", city=city) for n in range(count)
    )
    return [contact.pk for contact in made]


def text(response) -> str:
    """The words the page shows, tags aside."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def rows(response) -> list[int]:
    """The ids of the contacts the table lists, in its order."""
    table = response.content.decode().split('id="contacts"')[1].split("</table>")[0]
    return [int(pk) for pk in re.findall(r'href="/contacts/(\d+)/"', table)]


def links(response) -> dict[str, str]:
    """The pager's links by rel (first, prev, next): the addresses they lead to."""
    found = re.findall(r'rel="(first|prev|next)" href="\?([^"]+)"', response.content.decode())
    return {rel: f"{URL}?{html.unescape(query)}" for rel, query in found}


def test_the_page_says_how_many_contacts_there_are_and_how_many_match(owner_pages):
    people(3, city="Quincy")
    ContactFactory(first_name="Pat", last_name="O'Connor")
    ContactFactory(first_name="Sean", last_name="Oconnor")

    assert "5 contacts" in text(owner_pages.get(URL))
    assert "2 contacts match “O’Connor”" in text(owner_pages.get(URL, {"q": "O’Connor"}))
    assert "1 contact matches “Sean”" in text(owner_pages.get(URL, {"q": "Sean"}))
    assert "0 contacts match “Nobody”" in text(owner_pages.get(URL, {"q": "Nobody"}))


def test_a_total_past_a_page_is_the_whole_lists_in_figures(owner_pages):
    people(1234, city="Quincy")

    page = owner_pages.get(URL)

    assert "1,234 contacts" in text(page)
    assert len(rows(page)) == PER_PAGE


def test_each_page_says_which_of_the_contacts_it_shows(owner_pages):
    people(340, city="Quincy")
    people(3, city="Milton", first_phone=5000)

    first = owner_pages.get(URL, {"q": "Quincy"})
    second = owner_pages.get(links(first)["next"])
    third = owner_pages.get(links(second)["next"])
    *_, last = pages_from(owner_pages, third)

    assert "1–50 of 340 contacts match “Quincy”" in text(first)
    assert "51–100 of 340 contacts match “Quincy”" in text(second)
    assert "101–150 of 340" in text(third)
    assert "301–340 of 340" in text(last)
    assert "51–100 of 340" in text(owner_pages.get(links(third)["prev"]))
    # A list that fits on one page is only counted.
    milton = owner_pages.get(URL, {"q": "Milton"}).content.decode()
    said = re.search(r'<p id="contacts-total">(.*?)</p>', milton)[1]
    assert " ".join(html.unescape(re.sub(r"<[^>]+>", "", said)).split()) == "3 contacts match “Milton”"


def pages_from(client: Client, page) -> list:
    """The pages after ``page``, following Next to the end."""
    found = []
    while "next" in links(page):
        page = client.get(links(page)["next"])
        found.append(page)
    return found


def test_the_page_says_where_the_search_looks(owner_pages):
    page = text(owner_pages.get(URL))

    assert "Looks in the name, phone, email, street, city and ZIP" in page
    assert 'placeholder="Name, phone, email, address, city or ZIP"' in owner_pages.get(URL).content.decode()


def test_a_search_is_read_once_up_to_what_is_counted_and_the_queries_do_not_grow(owner_pages):
    def queries_for_a_search(quincy: int) -> list[str]:
        Contact.objects.all().delete()
        people(quincy, city="Quincy")
        people(7, city="Milton", first_phone=5000)
        with CaptureQueriesContext(connection) as queries:
            page = owner_pages.get(URL, {"q": "quincy"})
        assert f"{quincy} contacts match “quincy”" in text(page)
        return [query["sql"] for query in queries.captured_queries]

    few, many = queries_for_a_search(3), queries_for_a_search(140)

    assert len(few) == len(many)
    # The search's ids, no more than one past what is counted; the page then reads its rows by id.
    searched = [sql for sql in many if "%quincy%" in sql]
    assert len(searched) == 1 and searched[0].endswith(f"LIMIT {COUNTED_UP_TO + 1}")
    assert not [sql for sql in many if "COUNT(" in sql.upper()]


def test_a_search_past_what_is_counted_says_more_than_and_pages_the_same_way(owner_pages, monkeypatch):
    monkeypatch.setattr(selectors, "COUNTED_UP_TO", 60)
    quincy = people(130, city="Quincy")[::-1]
    people(3, city="Milton", first_phone=5000)

    first = owner_pages.get(URL, {"q": "Quincy"})
    second = owner_pages.get(links(first)["next"])
    last = owner_pages.get(links(second)["next"])

    assert rows(first) == quincy[:50] and set(links(first)) == {"next"}
    assert "1–50 of more than 60 contacts match “Quincy”" in text(first)
    assert rows(second) == quincy[50:100] and set(links(second)) == {"first", "prev", "next"}
    assert "51–100 of more than 60 contacts match “Quincy”" in text(second)
    # More than 60 are newer than the last page: its place is not known, and not guessed.
    assert rows(last) == quincy[100:] and set(links(last)) == {"first", "prev"}
    said = re.search(r'<p id="contacts-total">(.*?)</p>', last.content.decode())[1]
    assert " ".join(html.unescape(re.sub(r"<[^>]+>", "", said)).split()) == "more than 60 contacts match “Quincy”"
    assert rows(owner_pages.get(links(last)["prev"])) == quincy[50:100]
    # Three Miltons are counted as before.
    assert "3 contacts match “Milton”" in text(owner_pages.get(URL, {"q": "Milton"}))


def test_every_contact_of_a_large_table_is_the_planners_estimate_said_so(owner_pages, monkeypatch):
    monkeypatch.setattr(selectors, "COUNTED_IN_FULL_BELOW", 1_000)
    monkeypatch.setattr(selectors, "COUNTED_UP_TO", 100)
    newest = people(1234, city="Quincy")[::-1]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE contacts_contact")  # as autovacuum does: a table this small is sampled whole

    with CaptureQueriesContext(connection) as queries:
        page = owner_pages.get(URL)

    assert "1–50 of about 1,234 contacts" in text(page)
    assert rows(page) == newest[:50]
    assert not [query for query in queries.captured_queries if "COUNT(" in query["sql"].upper()]
    assert "about 1,234 contacts" in text(owner_pages.get(links(page)["next"]))


def test_next_previous_and_first_walk_the_search_newest_first_and_keep_it(owner_pages):
    quincy = people(120, city="Quincy")[::-1]  # newest first, as listed
    people(30, city="Milton", first_phone=5000)

    first = owner_pages.get(URL, {"q": "Quincy"})
    assert rows(first) == quincy[:50]
    assert set(links(first)) == {"next"}  # the first page has no First or Previous

    second = owner_pages.get(links(first)["next"])
    assert rows(second) == quincy[50:100]
    assert set(links(second)) == {"first", "prev", "next"}
    assert all("q=Quincy" in href for href in links(second).values())

    last = owner_pages.get(links(second)["next"])
    assert rows(last) == quincy[100:]
    assert set(links(last)) == {"first", "prev"}  # the last page has no Next
    assert "120 contacts match “Quincy”" in text(last)

    assert rows(owner_pages.get(links(last)["prev"])) == quincy[50:100]
    back_to_first = owner_pages.get(links(second)["prev"])
    assert rows(back_to_first) == quincy[:50] and set(links(back_to_first)) == {"next"}
    assert rows(owner_pages.get(links(last)["first"])) == quincy[:50]


def test_a_page_whose_newer_contacts_were_deleted_is_the_first_page(owner_pages):
    quincy = people(120, city="Quincy")[::-1]
    second = owner_pages.get(URL, {"q": "Quincy", "after": quincy[49]})
    last = owner_pages.get(links(second)["next"])

    Contact.objects.filter(pk__in=quincy[:60]).delete()

    # The second page's contacts are now the newest: no page before them.
    again = owner_pages.get(URL, {"q": "Quincy", "after": quincy[49]})
    assert rows(again) == quincy[60:110] and set(links(again)) == {"next"}
    # Previous from the last page finds fewer than a page before it: the first page, whole.
    previous = owner_pages.get(links(last)["prev"])
    assert rows(previous) == quincy[60:110]
    assert set(links(previous)) == {"next"}
    assert "60 contacts match “Quincy”" in text(previous)


def test_a_next_link_whose_contacts_were_deleted_shows_the_last_page(owner_pages):
    quincy = people(120, city="Quincy")[::-1]
    second = owner_pages.get(URL, {"after": quincy[49]})

    Contact.objects.filter(pk__in=quincy[100:]).delete()

    last = owner_pages.get(links(second)["next"])
    assert rows(last) == quincy[50:100]
    assert set(links(last)) == {"first", "prev"}


@pytest.mark.parametrize(
    ("asked", "said"),
    [
        ({"after": "abc"}, "Page link (after): Enter a whole number."),
        ({"before": "-3"}, "Page link (before): Ensure this value is greater than or equal to 1."),
        ({"after": "9" * 30}, "Page link (after): Ensure this value is less than or equal to 9223372036854775807."),
        ({"after": "5", "before": "9"}, "A page link gives “after” or “before”, not both."),
        ({"q": "x" * 201}, "Search: Ensure this value has at most 200 characters (it has 201)."),
    ],
)
def test_a_bad_search_or_page_link_is_refused_naming_it(owner_pages, asked, said):
    newest = people(3, city="Quincy")[::-1]

    response = owner_pages.get(URL, asked)

    assert response.status_code == 400
    assert said in text(response)
    assert rows(response) == newest  # and the first page of the rest of the request


def test_the_export_refuses_a_bad_search_naming_it(owner_pages):
    response = owner_pages.get(reverse("contacts:export"), {"q": "x" * 201})

    assert response.status_code == 400
    assert response.content.decode() == "Search: Ensure this value has at most 200 characters (it has 201)."
