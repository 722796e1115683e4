"""Custom signals of the articles app."""

from django.dispatch import Signal

# Sent with send_robust() when an article is first saved, with ``article``. One of its
# receivers always fails (an unreachable webhook), to show errors the page survives.
article_published = Signal()
