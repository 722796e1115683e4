"""The accounts app over real HTTP: login, failed login, profile, signup, logout."""

from __future__ import annotations

import re

import pytest

from demo_site.seed import DEMO_USERS
from demo_site.traffic import Browser

pytestmark = pytest.mark.e2e
PROBE_OFF = {"SIGNAL_PROBE_ENABLED": "0"}


def login_count(browser: Browser) -> int:
    page = browser.get("/accounts/profile/")
    assert page.status == 200, page.body
    return int(re.search(r'id="login-count">(\d+)<', page.body).group(1))


def audit_actions(browser: Browser) -> list[str]:
    page = browser.get("/accounts/profile/")
    return re.findall(r"<tr><td>[^<]*</td><td>([^<]*)</td>", page.body)


def test_login_counts_and_audits_through_receivers(start_site):
    site = start_site(env=PROBE_OFF)
    user = DEMO_USERS[1]
    browser = Browser(site.base_url)
    assert not browser.login(user.username, "wrong-password")
    assert browser.login(user.username, user.password)
    assert login_count(browser) == 1  # login_succeeded -> count_login
    # Newest first: user_logged_in's audit row, then user_login_failed's.
    assert audit_actions(browser) == ["login", "failed login"]

    browser.logout()
    assert browser.get("/accounts/profile/").url.startswith(site.base_url + "/accounts/login/")
    assert browser.login(user.username, user.password)
    assert login_count(browser) == 2
    assert audit_actions(browser)[:3] == ["login", "logout", "login"]


def test_signup_creates_a_profile_via_post_save(start_site):
    site = start_site(env=PROBE_OFF)
    browser = Browser(site.base_url)
    password = "a-Long-enough-pass-8472"
    page = browser.submit("/accounts/signup/", {
        "username": "newcomer", "password1": password, "password2": password,
    })
    assert page.url.endswith("/accounts/login/"), page.body
    assert browser.login("newcomer", password)
    assert login_count(browser) == 1


def test_wrong_password_shows_the_form_again(start_site):
    site = start_site(env=PROBE_OFF)
    browser = Browser(site.base_url)
    page = browser.submit("/accounts/login/", {"username": "demo", "password": "nope"})
    assert page.status == 200
    assert "Please enter a correct username and password" in page.body
    assert page.url.endswith("/accounts/login/")
