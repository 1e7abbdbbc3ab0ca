"""The Import page explains what a list file may hold in the page itself: staff cannot open the
project's docs from the product."""

import html
import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_import_page_says_what_a_file_may_hold_without_sending_staff_to_a_file_path(client, staff_user):
    client.force_login(staff_user)

    page = client.get(reverse("contacts:import")).content.decode()

    shown = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())
    assert "docs/" not in shown and ".md" not in shown
    help_text = re.search(r'<details id="file-help">(.*?)</details>', page, re.S)[1]
    said = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", help_text)).split())
    assert said.startswith("What a list file may hold")
    for words in ("consent date", "consent source", "consent wording", "Written consent needs all four",
                  "a purchased list is not consent", "A bad line costs that line only"):  # fmt: skip
        assert words in said
