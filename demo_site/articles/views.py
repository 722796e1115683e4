"""Views of the articles app: a cached list, detail, create, edit and delete."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from demo_site.articles.forms import ArticleForm, EditArticleForm
from demo_site.articles.models import Article
from demo_site.articles.receivers import LIST_CACHE_KEY
from demo_site.articles.signals import article_published

log = logging.getLogger(__name__)


class SimulatedFailure(Exception):
    """Raised inside the edit's transaction when the user asked for a failure."""


def article_list(request: HttpRequest) -> HttpResponse:
    """All articles; the query result is cached until a receiver invalidates it."""
    articles = cache.get(LIST_CACHE_KEY)
    cached = articles is not None
    if articles is None:
        articles = list(Article.objects.select_related("author")[:100])
        cache.set(LIST_CACHE_KEY, articles, 300)
    return render(request, "articles/list.html", {"articles": articles, "cached": cached})


def article_detail(request: HttpRequest, pk: int) -> HttpResponse:
    article = get_object_or_404(Article.objects.select_related("author"), pk=pk)
    return render(request, "articles/detail.html", {"article": article})


def _publish(request: HttpRequest, article: Article) -> None:
    """Tell the world; receivers that fail are reported, never shown to the user as a 500."""
    for receiver, result in article_published.send_robust(sender=Article, article=article):
        if isinstance(result, Exception):
            log.warning("article_published receiver %s failed: %s",
                        getattr(receiver, "__name__", receiver), result)
            messages.warning(request, f"Published, but a notification failed: {result}")


@login_required
def article_create(request: HttpRequest) -> HttpResponse:
    form = ArticleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        article = form.save(commit=False)
        article.author = request.user
        article.save()
        _publish(request, article)
        messages.success(request, f"Created “{article.title}”.")
        return redirect(article)
    return render(request, "articles/form.html", {"form": form, "creating": True})


@login_required
def article_edit(request: HttpRequest, pk: int) -> HttpResponse:
    article = get_object_or_404(Article, pk=pk)
    form = EditArticleForm(request.POST or None, instance=article)
    if request.method == "POST" and form.is_valid():
        # One transaction: post_save's receivers queue an on_commit() email, sent only
        # if the edit commits; a (simulated) failure rolls both back.
        try:
            with transaction.atomic():
                form.save()
                if form.cleaned_data["simulate_failure"]:
                    raise SimulatedFailure
        except SimulatedFailure:
            messages.error(request, "Simulated failure: the edit was rolled back, and the "
                                    "notification email with it.")
            return redirect(article)
        messages.success(request, f"Saved “{article.title}”.")
        return redirect(article)
    return render(request, "articles/form.html",
                  {"form": form, "article": article, "creating": False})


@login_required
def article_delete(request: HttpRequest, pk: int) -> HttpResponse:
    article = get_object_or_404(Article, pk=pk)
    if request.method == "POST":
        article.delete()
        messages.success(request, f"Deleted “{article.title}”.")
        return redirect("article-list")
    return render(request, "articles/confirm_delete.html", {"article": article})
