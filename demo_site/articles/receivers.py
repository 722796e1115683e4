"""Receivers of the articles app: cache invalidation, a slow indexer, a failing webhook,
an email queued with transaction.on_commit(), a mis-wired one."""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import time
from typing import Any

import django
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django.utils.text import slugify

from demo_site.articles.forms import ArticleForm
from demo_site.articles.models import Article
from demo_site.articles.signals import article_published

log = logging.getLogger(__name__)

LIST_CACHE_KEY = "articles:list"
SEARCH_INDEX_CACHE_KEY = "articles:search-index"


def fill_slug(sender: type[Article], instance: Article, **kwargs: Any) -> None:
    """Derive the slug from the title before every save."""
    instance.slug = slugify(instance.title)[:200] or "untitled"


def invalidate_list_cache(sender: type[Article], instance: Article, **kwargs: Any) -> None:
    """The article list is cached; any save or delete makes it stale."""
    cache.delete(LIST_CACHE_KEY)


def update_search_index(sender: type[Article], instance: Article, **kwargs: Any) -> None:
    """Pretend to re-index the article: deliberately slow (30-80 ms), like a real indexer call."""
    time.sleep(random.uniform(0.03, 0.08))
    index = cache.get(SEARCH_INDEX_CACHE_KEY) or {}
    index[instance.pk] = sorted(set(instance.title.lower().split()))
    cache.set(SEARCH_INDEX_CACHE_KEY, index)


def send_article_email(pk: int, title: str) -> None:
    """Tell the editors (Django's locmem backend in the demo: nothing leaves the process)."""
    send_mail(f"Article saved: {title}", f"/articles/{pk}/", "demo@example.invalid",
              ["editors@example.invalid"])


def queue_article_email(sender: type[Article], instance: Article, **kwargs: Any) -> None:
    """Email only once the save is committed: a rolled-back edit must not be announced.
    (In autocommit, as when creating, Django runs the callback at once.)"""
    transaction.on_commit(functools.partial(send_article_email, instance.pk, instance.title))


class WebhookUnreachable(ConnectionError):
    """The demo webhook never answers."""


def notify_webhook(sender: type[Article], article: Article, **kwargs: Any) -> None:
    """Always fails: send_robust() catches it, the page still works, the monitor shows it."""
    raise WebhookUnreachable(f"POST https://hooks.invalid/articles/{article.pk}: unreachable")


async def push_live_update(sender: type[Article], article: Article, **kwargs: Any) -> str:
    """An async receiver (Django 5.0+ awaits these even from a synchronous send)."""
    await asyncio.sleep(0.005)
    return f"pushed article {article.pk}"


def reindex_tags(sender: Any, instance: Article, tags: list[str], **kwargs: Any) -> None:
    """Deliberately mis-wired (the monitor's Diagnostics tab finds it): connected for the
    form instead of the model, so it never runs, and it requires a ``tags`` keyword that
    post_save never sends, so it would raise TypeError if it did."""
    log.info("re-indexing tags %s of %s", tags, instance.pk)


def connect() -> None:
    """Connect every receiver once (dispatch_uid makes a second ready() harmless)."""
    pre_save.connect(fill_slug, sender=Article, dispatch_uid="articles.fill_slug")
    for signal, name in ((post_save, "save"), (post_delete, "delete")):
        signal.connect(invalidate_list_cache, sender=Article,
                       dispatch_uid=f"articles.invalidate_list_cache.{name}")
    post_save.connect(update_search_index, sender=Article,
                      dispatch_uid="articles.update_search_index")
    post_save.connect(queue_article_email, sender=Article,
                      dispatch_uid="articles.queue_article_email")
    post_save.connect(reindex_tags, sender=ArticleForm, dispatch_uid="articles.reindex_tags")
    article_published.connect(notify_webhook, sender=Article,
                              dispatch_uid="articles.notify_webhook")
    # Django 4.2 would call an async receiver without awaiting it; asynchronous receivers
    # are supported from 5.0 on.
    if django.VERSION >= (5, 0):
        article_published.connect(push_live_update, sender=Article,
                                  dispatch_uid="articles.push_live_update")
