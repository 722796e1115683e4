"""App configuration of the articles app: connects its receivers."""

from django.apps import AppConfig


class ArticlesConfig(AppConfig):
    name = "demo_site.articles"
    label = "articles"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from demo_site.articles import receivers

        receivers.connect()
