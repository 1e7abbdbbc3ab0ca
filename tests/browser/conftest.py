"""Playwright driving Debian's Chromium against a live server on PostgreSQL."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.factories import StaffUserFactory

CHROMIUM = os.getenv("CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
PASSWORD = "correct horse battery staple"
SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 375, "height": 812}}


@pytest.fixture(scope="session")
def browser() -> Browser:
    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # between page actions are ordinary synchronous calls, so Django's async guard is lifted here.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, live_server) -> Page:
    """A page whose test fails if anything it loaded broke the Content-Security-Policy."""
    context = browser.new_context(viewport=SIZES["desktop"], base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    violations: list[str] = []
    page.on("console", lambda message: "Content Security Policy" in message.text and violations.append(message.text))
    yield page
    context.close()
    assert not violations, f"the pages broke their Content-Security-Policy: {violations}"


@pytest.fixture
def staff_login(page: Page, settings):
    """Log in through the login page as a staff user."""
    settings.OPENPHONE_FROM_NUMBER = "+16175550100"
    user = StaffUserFactory(username="owner", role="owner")
    user.set_password(PASSWORD)
    user.save()
    log_in(page, "owner")
    return user


def log_in(page: Page, username: str) -> None:
    """Sign in through the login page (every test user's password is PASSWORD)."""
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


@pytest.fixture
def eager_tasks(celery_settings):
    celery_settings(task_always_eager=True)


def screenshot(page: Page, name: str) -> None:
    """Write the page at desktop and phone width to var/screenshots/ for a person to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in SIZES.items():
        page.set_viewport_size(size)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
        # Nothing may overflow sideways at phone width: a page that scrolls sideways is broken.
        if label == "phone":
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{name} is {overflow}px wider than a 375px phone"
    page.set_viewport_size(SIZES["desktop"])
