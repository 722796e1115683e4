"""Models with a foreign key and a many-to-many so saves and deletes exercise real SQL."""

from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=100)

    def __str__(self) -> str:  # deliberately queries: the probe must never call it
        return f"{self.name} ({self.book_set.count()} books)"


class Tag(models.Model):
    name = models.CharField(max_length=50)


class Book(models.Model):
    title = models.CharField(max_length=200)
    author = models.ForeignKey(Author, on_delete=models.CASCADE)
    tags = models.ManyToManyField(Tag, blank=True)
    body = models.TextField(default="")


class Note(models.Model):
    """No relations at all: queryset.delete() takes Django's fast-delete path (one DELETE)."""

    text = models.CharField(max_length=100)
