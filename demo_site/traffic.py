"""``python -m demo_site traffic``: a scripted browser that keeps the demo site busy over HTTP.

It uses only the standard library (urllib with a cookie jar) so it can drive any running
copy of the site, and it handles CSRF like a browser does: it reads the token from each
form it is about to submit.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import random
import re
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from demo_site.seed import DEMO_USERS

_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_ARTICLE_URL = re.compile(r"/articles/(\d+)/$")


class TrafficError(RuntimeError):
    """The site did not answer the way a working demo site does."""


@dataclass
class Page:
    status: int
    url: str
    body: str


class Browser:
    """One visitor: its own cookies (session, CSRF), real HTTP requests, redirects followed."""

    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))
        self.requests = 0

    def _open(self, path: str, data: dict[str, str] | None = None) -> Page:
        url = path if path.startswith("http") else self.base_url + path
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(url, data=body)
        self.requests += 1
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                return Page(response.status, response.geturl(),
                            response.read().decode("utf-8", "replace"))
        except urllib.error.HTTPError as exc:
            with exc:
                return Page(exc.code, exc.geturl() or url, exc.read().decode("utf-8", "replace"))

    def get(self, path: str) -> Page:
        return self._open(path)

    def submit(self, path: str, fields: dict[str, str]) -> Page:
        """GET the form page, then POST it with its CSRF token, like a browser."""
        form = self.get(path)
        match = _CSRF_INPUT.search(form.body)
        if form.status != 200 or match is None:
            raise TrafficError(f"no form at {path} (HTTP {form.status})")
        return self._open(path, {"csrfmiddlewaretoken": match.group(1), **fields})

    def login(self, username: str, password: str) -> bool:
        """True when the site logged us in (it redirects to the profile page)."""
        page = self.submit("/accounts/login/", {"username": username, "password": password})
        return page.status == 200 and page.url.endswith("/accounts/profile/")

    def logout(self) -> Page:
        """POST the header's logout form (Django 5 no longer logs out on GET)."""
        page = self.get("/articles/")
        match = _CSRF_INPUT.search(page.body)
        if match is None:
            raise TrafficError("no logout form on the article list")
        return self._open("/accounts/logout/", {"csrfmiddlewaretoken": match.group(1)})


@dataclass
class Stats:
    iterations: int = 0
    requests: int = 0
    logins: int = 0
    failed_logins: int = 0
    articles: int = 0
    errors: int = 0
    started: float = field(default_factory=time.monotonic)

    def add(self, other: Stats) -> None:
        for name in ("iterations", "requests", "logins", "failed_logins", "articles", "errors"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def line(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        return (f"{self.iterations} rounds, {self.requests} requests "
                f"({self.requests / elapsed:.1f}/s), {self.logins} logins, "
                f"{self.failed_logins} failed logins, {self.articles} articles, "
                f"{self.errors} errors")


# What a visitor does: everything; only logging in (maybe with a wrong password first),
# browsing, logging out; or logging in and writing articles (never a wrong password).
MIXES = ("full", "logins", "articles")


def one_round(base_url: str, rng: random.Random, mix: str = "full") -> Stats:
    """A visitor's session: maybe a wrong password, log in, write/edit/delete, log out
    (``mix``: one of MIXES)."""
    stats = Stats(iterations=1)
    browser = Browser(base_url)
    user = rng.choice(DEMO_USERS)
    try:
        if mix != "articles" and rng.random() < 0.3:
            if browser.login(user.username, "not-the-password"):
                raise TrafficError("a wrong password logged in")
            stats.failed_logins += 1
        if not browser.login(user.username, user.password):
            raise TrafficError(f"login as {user.username} failed; did you run setup?")
        stats.logins += 1
        browser.get("/articles/")
        if mix == "logins":
            browser.logout()
            stats.requests = browser.requests
            return stats
        title = f"{user.username}'s note {rng.randrange(10_000)}"
        page = browser.submit("/articles/new/", {"title": title, "body": "Written by traffic."})
        found = _ARTICLE_URL.search(urllib.parse.urlsplit(page.url).path)
        if page.status != 200 or found is None:
            raise TrafficError(f"creating an article ended at {page.url} (HTTP {page.status})")
        stats.articles += 1
        pk = found.group(1)
        # Half the edits fail on purpose: their transaction, and its on_commit email, is
        # rolled back.
        edit = {"title": title + " (edited)", "body": "Edited."}
        if rng.random() < 0.5:
            edit["simulate_failure"] = "on"
        browser.submit(f"/articles/{pk}/edit/", edit)
        browser.get("/articles/")
        if rng.random() < 0.8:  # keep a few, so the list is not always empty
            browser.submit(f"/articles/{pk}/delete/", {})
        browser.logout()
    except (TrafficError, OSError) as exc:
        stats.errors += 1
        print(f"\n[traffic] {exc}", file=sys.stderr)
    stats.requests = browser.requests
    return stats


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    limit = parser.add_mutually_exclusive_group()
    limit.add_argument("--count", type=int, help="number of rounds (default: until Ctrl-C)")
    limit.add_argument("--duration", type=float, help="seconds to run")
    parser.add_argument("--pause", type=float, default=0.2, help="seconds between rounds")
    parser.add_argument("--concurrency", type=int, default=1,
                        help="visitors at once, one thread each (default 1)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (repeatable runs)")
    parser.add_argument("--mix", choices=MIXES, default="full",
                        help="what each visitor does: everything (default), only log in and "
                             "out, or log in and write articles")


class _Driver:
    """Runs visitors on threads; the main thread only reports (and takes Ctrl-C)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.stats = Stats()
        self.lock = threading.Lock()
        self.claimed = 0  # rounds handed out, so --count is exact with several threads
        self.stop = threading.Event()
        self.deadline = (time.monotonic() + args.duration) if args.duration is not None else None

    def _claim(self) -> bool:
        with self.lock:
            if self.stop.is_set() or (self.args.count is not None
                                      and self.claimed >= self.args.count):
                return False
            if self.deadline is not None and time.monotonic() >= self.deadline:
                return False
            self.claimed += 1
            return True

    def visitor(self, index: int) -> None:
        seed = None if self.args.seed is None else self.args.seed + index
        rng = random.Random(seed)
        while self._claim():
            result = one_round(self.args.base_url, rng, self.args.mix)
            with self.lock:
                self.stats.add(result)
            if self.args.pause > 0:
                self.stop.wait(self.args.pause)


def run(args: argparse.Namespace) -> int:
    driver = _Driver(args)
    tty = sys.stderr.isatty()
    bounded = args.count is not None or args.duration is not None
    print(f"[traffic] driving {args.base_url} with {args.concurrency} visitor(s) "
          f"({'bounded' if bounded else 'until Ctrl-C'})", file=sys.stderr)
    # Daemon threads: Ctrl-C must not wait for a visitor stuck in a slow request.
    threads = [threading.Thread(target=driver.visitor, args=(i,), daemon=True)
               for i in range(max(1, args.concurrency))]
    for thread in threads:
        thread.start()
    shown = -1
    try:
        while (alive := next((t for t in threads if t.is_alive()), None)) is not None:
            alive.join(0.25)  # wake up for the progress line, and for Ctrl-C
            with driver.lock:
                line, done = driver.stats.line(), driver.stats.iterations
            if done != shown:
                shown = done
                print(("\r" if tty else "") + "[traffic] " + line,
                      end="" if tty else "\n", file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        driver.stop.set()
    stats = driver.stats
    print(("\n" if tty else "") + "[traffic] done: " + stats.line(), file=sys.stderr)
    return 1 if stats.errors and stats.errors == stats.iterations else 0
