"""The demo site's header over real HTTP: the Log out button lines up with the header links."""

from __future__ import annotations

import re

import pytest

from demo_site.seed import DEMO_USERS
from demo_site.traffic import Browser

pytestmark = pytest.mark.e2e

# The elements around the Log out button: <body><header><form><button type=submit id=logout>.
ANCESTORS = {"html", "body", "header", "form"}
BUTTON = {"*", "button", "button[type=submit]", "#logout", "button#logout"}


def css_rules(page: str) -> list[tuple[str, dict[str, str]]]:
    """(selector, declarations) for every rule of the page's inline style sheet."""
    style = re.search(r"<style>(.*?)</style>", page, re.S).group(1)
    style = re.sub(r"/\*.*?\*/", "", style, flags=re.S)
    rules = []
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", style):
        declarations = dict(
            (name.strip(), value.strip())
            for name, _, value in (d.partition(":") for d in body.split(";") if d.strip()))
        rules.extend((s.strip(), declarations) for s in selectors.split(","))
    return rules


def applies_to_logout(selector: str) -> bool:
    """Whether a (descendant-combinator-only) selector matches the header's Log out button."""
    *ancestors, target = selector.split()
    return target in BUTTON and all(a in ANCESTORS for a in ancestors)


def test_css_matcher_sees_the_old_rule():
    assert applies_to_logout("button[type=submit]")  # what pushed the button down
    assert applies_to_logout("header button")
    assert not applies_to_logout("main button[type=submit]")
    assert not applies_to_logout(".button")


def test_log_out_button_has_no_vertical_margin_and_sits_in_the_header(start_site):
    site = start_site(env={"SIGNAL_PROBE_ENABLED": "0"})
    user = DEMO_USERS[0]
    browser = Browser(site.base_url)
    assert browser.login(user.username, user.password)
    page = browser.get("/articles/").body
    header = re.search(r"<header>(.*?)</header>", page, re.S).group(1)
    assert re.search(r'<button type="submit" id="logout">Log out</button>', header)
    rules = [(selector, declarations) for selector, declarations in css_rules(page)
             if applies_to_logout(selector)]
    assert any(selector == "header button" for selector, _ in rules)  # its own look
    for selector, declarations in rules:
        for name in ("margin", "margin-top", "margin-bottom"):
            value = declarations.get(name)
            assert value is None or set(value.split()) <= {"0"}, (selector, name, value)
    # The page's own submit buttons keep their spacing.
    form = browser.get("/articles/new/").body
    assert any(selector == "main button[type=submit]" and declarations.get("margin-top")
               for selector, declarations in css_rules(form))
