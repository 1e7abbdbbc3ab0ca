"""`make run` uses SQLite: the contact search must find the same spellings there."""

import json

from tests.sqlite import on_sqlite

FIND_EACH_SPELLING = """
import json
from contacts.models import Contact, Property, PropertyContact
from contacts.selectors import contact_search
for n, (first, last) in enumerate([("Pat", "Oconnor"), ("Pat", "O'Connor"), ("Pat", "O’Connor"),
                                   ("Mary-Jane", "Walsh"), ("Mary Jane", "Burke"), ("Sean", "Doyle")]):
    Contact.objects.create(phone=f"+1617555010{n}", first_name=first, last_name=last, zip_code="02169")
house = Property.objects.create(address="9 Wollaston Ave", city="Quincy", zip_code="02170", address_key="9 WOLLASTON")
link = PropertyContact.objects.create(property=house, contact=Contact.objects.get(last_name="Doyle"), role="primary")
def find(query):
    return sorted(f"{c.first_name} {c.last_name}" for c in contact_search(query=query))
found = {query: find(query) for query in ["O'Connor", "O’Connor", "oconnor", "MaryJane", "mary-jane", "617-555-0105",
                                          "02169", "wollaston ave", "02170"]}
link.delete()
found["wollaston ave, the house unlinked"] = find("wollaston ave")
print(json.dumps(found))
"""


def test_the_search_finds_every_spelling_on_sqlite(sqlite_database):
    found = json.loads(on_sqlite(sqlite_database, "manage.py", "shell", "--no-imports", "-c", FIND_EACH_SPELLING))

    oconnors = ["Pat O'Connor", "Pat Oconnor", "Pat O’Connor"]
    assert found["O'Connor"] == found["O’Connor"] == found["oconnor"] == oconnors
    assert found["MaryJane"] == found["mary-jane"] == ["Mary Jane Burke", "Mary-Jane Walsh"]
    assert found["617-555-0105"] == ["Sean Doyle"]
    assert len(found["02169"]) == 6
    assert found["wollaston ave"] == found["02170"] == ["Sean Doyle"]  # his house's street and ZIP
    assert found["wollaston ave, the house unlinked"] == []
