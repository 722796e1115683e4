"""Publishing an article over HTTP (WSGI and ASGI): slow, failing and async receivers as seen
by the monitor, while the page itself still works."""

from __future__ import annotations

import re

import pytest

from demo_site.traffic import Browser

pytestmark = pytest.mark.e2e

PUBLISHED = "demo_site.articles.signals.article_published"
PRE_SAVE = "django.db.models.signals.pre_save"
POST_SAVE = "django.db.models.signals.post_save"
POST_DELETE = "django.db.models.signals.post_delete"
REQUEST_FINISHED = "django.core.signals.request_finished"


def request_rows(monitor, request_id: str):
    return sorted((r for r in monitor.rows() if r.request and r.request.id == request_id),
                  key=lambda r: r.id)


def finished(monitor, request_id: str) -> bool:
    return any(r.signal == REQUEST_FINISHED for r in request_rows(monitor, request_id))


@pytest.mark.parametrize("server", ["runserver", "uvicorn"], ids=["wsgi", "asgi"])
def test_publish_edit_delete_article(monitor, start_site, server):
    site = start_site(server=server, env={"SIGNAL_PROBE_ENDPOINT": monitor.endpoint})
    monitor.wait_for(lambda s: len(s.processes) == 1, "the site's probe to connect")
    browser = Browser(site.base_url)
    assert browser.login("demo", "demo-password-123")
    page = browser.submit("/articles/new/", {"title": "Signals Everywhere", "body": "x"})
    assert page.status == 200 and "Published, but a notification failed" in page.body

    monitor.wait_for(lambda s: bool(monitor.rows_of(PUBLISHED)), "article_published")
    (published,) = monitor.rows_of(PUBLISHED)
    monitor.wait_for(lambda s: finished(monitor, published.request.id), "the request to finish")
    assert (published.request.method, published.request.path) == ("POST", "/articles/new/")
    assert published.method == "send_robust" and not published.raised  # the page survived
    assert published.site.file.endswith("demo_site/articles/views.py")
    calls = {rc.name: rc for rc in published.receivers}
    # The site's Django version, as its probe announced it (Hello): async receivers are
    # connected from Django 5.0 on only.
    (info,) = monitor.state.processes.values()
    django_version = tuple(int(n) for n in info.info["django"].split(".")[:2])
    expected = {"notify_webhook"} | ({"push_live_update"} if django_version >= (5, 0) else set())
    assert set(calls) == expected
    assert calls["notify_webhook"].outcome == "raised"
    assert calls["notify_webhook"].exc_type.endswith("WebhookUnreachable")
    # The demo's own class keeps ConnectionError's __str__: its message is built from its
    # args, never by str() (docs/probe.md, "What describing a value may do").
    assert "unreachable" in calls["notify_webhook"].exc_msg
    if "push_live_update" in expected:
        assert calls["push_live_update"].is_async
        assert calls["push_live_update"].outcome == "returned"
    assert published.error  # shown as an error in the monitor

    rows = request_rows(monitor, published.request.id)
    (article_pre,) = [r for r in rows if r.signal == PRE_SAVE and r.sender == "articles.Article"]
    assert [rc.name for rc in article_pre.receivers] == ["fill_slug"]
    (article_post,) = [r for r in rows
                       if r.signal == POST_SAVE and r.sender == "articles.Article"]
    post_calls = {rc.name: rc for rc in article_post.receivers}
    assert set(post_calls) == {"invalidate_list_cache", "update_search_index",
                               "queue_article_email"}
    assert post_calls["update_search_index"].dur >= 30_000_000  # the deliberately slow one
    assert article_post.id < published.id  # saved first, then published

    pk = re.search(r"/articles/(\d+)/$", page.url).group(1)
    browser.submit(f"/articles/{pk}/delete/", {})
    monitor.wait_for(lambda s: any(r.sender == "articles.Article"
                                   for r in monitor.rows_of(POST_DELETE)), "the delete")
    (deleted,) = [r for r in monitor.rows_of(POST_DELETE) if r.sender == "articles.Article"]
    assert [rc.name for rc in deleted.receivers] == ["invalidate_list_cache"]
    assert deleted.request.path == f"/articles/{pk}/delete/"
    assert site.stop() == 0
