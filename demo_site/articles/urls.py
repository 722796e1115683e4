"""URLs of the articles app."""

from django.urls import path

from demo_site.articles import views

urlpatterns = [
    path("", views.article_list, name="article-list"),
    path("new/", views.article_create, name="article-create"),
    path("<int:pk>/", views.article_detail, name="article-detail"),
    path("<int:pk>/edit/", views.article_edit, name="article-edit"),
    path("<int:pk>/delete/", views.article_delete, name="article-delete"),
]
