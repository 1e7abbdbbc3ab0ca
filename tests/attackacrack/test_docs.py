"""The README and docs/ hold together: every link lands, the README stays a front door, every
command they name exists, the README's owner token is an owner's, the configuration table names
exactly what the code reads, and every picture is a screenshot a browser test takes."""

import re
import shlex
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command, get_commands

from attackacrack import roles

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
DOCUMENTS = [README, *sorted(DOCS.glob("*.md"))]

FENCE = re.compile(r"^```.*?^```[ \t]*$", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$", re.MULTILINE)


def prose(text: str) -> str:
    """The text a reader sees as prose: fenced blocks and inline code taken out."""
    return INLINE_CODE.sub("", FENCE.sub("", text))


def code(text: str) -> str:
    """Only what is written as code: fenced blocks and inline code spans."""
    return "\n".join([*FENCE.findall(text), *INLINE_CODE.findall(FENCE.sub("", text))])


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: its visible text in lower case, punctuation dropped, spaces as hyphens."""
    visible = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    return re.sub(r"[^\w\- ]", "", visible.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found: set[str] = set()
    for _, heading in HEADING.findall(FENCE.sub("", path.read_text())):
        base = slug(heading)
        name, n = base, 0
        while name in found:  # GitHub numbers repeated headings: name, name-1, name-2
            n += 1
            name = f"{base}-{n}"
        found.add(name)
    return found


def links(path: Path) -> list[str]:
    return [target for target in LINK.findall(prose(path.read_text())) if not re.match(r"[a-z]+:", target)]


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_every_relative_link_and_anchor_resolves(document):
    broken = []
    for target in links(document):
        file_part, _, anchor = target.partition("#")
        destination = (document.parent / file_part).resolve() if file_part else document
        if not destination.exists():
            broken.append(f"{target}: no such file")
        elif anchor and destination.suffix == ".md" and anchor not in anchors(destination):
            broken.append(f"{target}: no heading #{anchor} in {destination.relative_to(ROOT)}")
    assert not broken, f"{document.relative_to(ROOT)} has broken links:\n" + "\n".join(broken)


def test_every_document_the_pages_and_the_code_name_exists():
    sources = [*ROOT.glob("templates/**/*.html")]
    for folder in ("attackacrack", "contacts", "campaigns", "messaging", "bench", "tests"):
        sources += (ROOT / folder).glob("**/*.py")
    named = {name for source in sources for name in re.findall(r"\bdocs/[\w-]+\.md", source.read_text())}

    assert {name for name in named if not (ROOT / name).exists()} == set()


def test_the_slugs_are_github_s():
    assert slug("Where the rest lives") == "where-the-rest-lives"
    assert slug("`make bench`, what it measures") == "make-bench-what-it-measures"
    assert slug("The send path: CampaignContact and Message") == "the-send-path-campaigncontact-and-message"
    assert slug("Opt-outs & consent") == "opt-outs--consent"


def test_the_readme_is_a_front_door_under_200_lines():
    lines = README.read_text().count("\n")
    assert lines < 200, f"README.md has {lines} lines: move the detail to docs/"


def make_targets() -> set[str]:
    return set(re.findall(r"^([a-z][\w-]*):", (ROOT / "Makefile").read_text(), re.MULTILINE))


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_every_make_target_and_manage_py_command_named_exists(document):
    written = code(document.read_text())
    targets = set(re.findall(r"\bmake ([a-z][\w-]*)", written))
    commands = set(re.findall(r"\bmanage\.py ([a-z_]+)", written))

    assert targets - make_targets() == set(), f"{document.name} names make targets the Makefile lacks"
    assert commands - set(get_commands()) == set(), f"{document.name} names manage.py commands that do not exist"


def test_the_readme_names_both_commands():
    assert {"run", "test"} <= set(re.findall(r"\bmake ([a-z]+)", code(README.read_text())))


@pytest.mark.django_db
def test_the_readme_s_owner_token_is_made_for_an_owner(capsys):
    """The README's first API step makes an owner's token, as it says: a staff token is refused the
    owner's actions (export, Do-Not-Call lists, a campaign's sending number)."""
    line = next(line for line in code(README.read_text()).splitlines() if "manage.py create_api_token" in line)
    words = shlex.split(line.split("manage.py", 1)[1].split(")", 1)[0])

    call_command(*words)

    user = get_user_model().objects.get(username=words[1])
    assert user.groups.filter(name=roles.GROUP_NAMES[roles.OWNER]).exists()
    assert all(user.has_perm(permission) for permission in roles.OWNER_ONLY)
    assert capsys.readouterr().out.strip() == user.auth_token.key


def screenshot_names() -> set[str]:
    taken = set()
    for test in (ROOT / "tests" / "browser").glob("test_*.py"):
        taken |= set(re.findall(r"screenshot\(page, \"([^\"]+)\"\)", test.read_text()))
    return taken


def test_every_picture_in_the_docs_is_a_screenshot_a_browser_test_takes():
    pictures = {
        (document.parent / target).resolve()
        for document in DOCUMENTS
        for target in IMAGE.findall(prose(document.read_text()))
    }
    assert pictures, "the staff guide shows the pages"
    for picture in pictures:
        assert picture.parent == DOCS / "screenshots", f"{picture} is not in docs/screenshots/"
        assert picture.stem in screenshot_names(), f"no browser test takes the screenshot {picture.stem!r}"
        assert picture.exists(), f"{picture.name} is missing: run the browser tests, then scripts/refresh-screenshots"
    unused = set((DOCS / "screenshots").glob("*.png")) - pictures
    assert not unused, f"screenshots no document shows (delete them): {sorted(path.name for path in unused)}"


SETTINGS_READS = re.compile(r"(?:os\.getenv|os\.environ\.get|env(?:bool|int|time|list))\(\s*[\"']([A-Z][A-Z0-9_]*)")
SHELL_READS = re.compile(r"\$\{?([A-Z][A-Z0-9_]*)")


def configuration_table() -> set[str]:
    text = (DOCS / "operating.md").read_text()
    section = text.split("\n## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]*)`", row.split("|")[1])}


def test_the_configuration_table_lists_every_variable_the_settings_read():
    settings_file = (ROOT / "attackacrack" / "settings.py").read_text()
    read = set(SETTINGS_READS.findall(settings_file))
    if "dj_database_url.config(" in settings_file:
        read.add("DATABASE_URL")  # dj-database-url reads it

    assert read - configuration_table() == set(), "variables the settings read that operating.md does not list"


def test_the_configuration_table_lists_no_variable_the_code_does_not_read():
    read = set(SETTINGS_READS.findall((ROOT / "attackacrack" / "settings.py").read_text())) | {"DATABASE_URL"}
    read |= set(SETTINGS_READS.findall((ROOT / "gunicorn.conf.py").read_text()))
    for procfile in ("Procfile", "Procfile.dev"):
        read |= set(SHELL_READS.findall((ROOT / procfile).read_text()))

    assert configuration_table() - read == set(), "operating.md lists variables nothing reads"
