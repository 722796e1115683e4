"""The articles app over real HTTP: cached list, create (robust publish), edit, delete."""

from __future__ import annotations

import re

import pytest

from demo_site.traffic import Browser

pytestmark = pytest.mark.e2e
PROBE_OFF = {"SIGNAL_PROBE_ENABLED": "0"}


def logged_in(site) -> Browser:
    browser = Browser(site.base_url)
    assert browser.login("demo", "demo-password-123")
    return browser


def test_list_is_cached_until_a_receiver_invalidates_it(start_site):
    browser = logged_in(start_site(env=PROBE_OFF))
    assert "Fresh from the database" in browser.get("/articles/").body
    assert "Served from the cache" in browser.get("/articles/").body

    created = browser.submit("/articles/new/", {"title": "Cache Test", "body": "b"})
    listing = browser.get("/articles/").body
    assert "Fresh from the database" in listing  # post_save -> invalidate_list_cache
    assert ">Cache Test</a>" in listing

    pk = re.search(r"/articles/(\d+)/$", created.url).group(1)
    assert "Served from the cache" in browser.get("/articles/").body
    # The delete redirects to the list, rendered right after post_delete cleared the cache.
    listing = browser.submit(f"/articles/{pk}/delete/", {}).body
    assert "Fresh from the database" in listing  # post_delete -> invalidate_list_cache
    assert ">Cache Test</a>" not in listing


def test_failing_webhook_receiver_does_not_break_publishing(start_site):
    site = start_site(env=PROBE_OFF)
    browser = logged_in(site)
    page = browser.submit("/articles/new/", {"title": "Hello Signals", "body": "Body text"})
    assert page.status == 200
    assert re.search(r"/articles/\d+/$", page.url)
    assert "Published, but a notification failed" in page.body  # send_robust caught it
    assert "Created “Hello Signals”" in page.body
    assert "<code>hello-signals</code>" in page.body  # pre_save -> fill_slug
    assert "WebhookUnreachable" in site.log() or "unreachable" in site.log()


def test_edit_and_delete(start_site):
    browser = logged_in(start_site(env=PROBE_OFF))
    page = browser.submit("/articles/new/", {"title": "Draft", "body": "one"})
    pk = re.search(r"/articles/(\d+)/$", page.url).group(1)
    page = browser.submit(f"/articles/{pk}/edit/", {"title": "Final Title", "body": "two"})
    assert "<code>final-title</code>" in page.body
    browser.submit(f"/articles/{pk}/delete/", {})
    assert browser.get(f"/articles/{pk}/").status == 404


def test_writing_requires_login(start_site):
    browser = Browser(start_site(env=PROBE_OFF).base_url)
    page = browser.get("/articles/new/")
    assert "/accounts/login/?next=/articles/new/" in page.url


def test_a_simulated_failure_rolls_the_edit_back(start_site):
    browser = logged_in(start_site(env=PROBE_OFF))
    page = browser.submit("/articles/new/", {"title": "Kept", "body": "one"})
    pk = re.search(r"/articles/(\d+)/$", page.url).group(1)
    page = browser.submit(f"/articles/{pk}/edit/",
                          {"title": "Lost", "body": "two", "simulate_failure": "on"})
    assert "the edit was rolled back" in page.body
    assert "<code>kept</code>" in page.body  # the slug of the title that was kept
