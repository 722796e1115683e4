"""Admin registration of the articles app."""

from django.contrib import admin

from demo_site.articles.models import Article


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "author", "updated"]
    search_fields = ["title"]
