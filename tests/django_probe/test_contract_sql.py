"""The probe is invisible to the database: the same SQL without and with it; receivers mode."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from django_probe import runtime
from django_probe.conf import ProbeConfig
from tests.django_probe.support import start_recording, twice
from tests.django_probe.testapp.models import Author, Book, Note, Tag


@pytest.mark.django_db
def test_sql_is_identical_including_fast_delete():
    def scenario():
        author = Author.objects.create(name="a")
        book = Book.objects.create(title="t", author=author)
        tag = Tag.objects.create(name="x")
        Note.objects.create(text="n")
        steps = {}
        for step, action in [
            ("m2m_add", lambda: book.tags.add(tag)),
            ("save", lambda: (setattr(book, "title", "u"), book.save())),
            ("fast_delete", lambda: Note.objects.filter(text="n").delete()),
            ("cascade_delete", author.delete),
        ]:
            with CaptureQueriesContext(connection) as ctx:
                action()
            steps[step] = [q["sql"].replace(str(author.pk), "?").replace(str(book.pk), "?")
                           .replace(str(tag.pk), "?") for q in ctx.captured_queries]
        return steps

    without, with_probe, _ = twice(scenario)
    assert with_probe == without
    # The fast-delete path is intact: a single DELETE, no SELECT of the rows first.
    assert [sql.split(" ")[0] for sql in with_probe["fast_delete"]] == ["DELETE"]


@pytest.mark.django_db
@pytest.mark.parametrize("include_delete", [False, True])
def test_receivers_mode_trade_off_on_delete_sql(include_delete):
    def scenario():
        Note.objects.create(text="x")
        with CaptureQueriesContext(connection) as ctx:
            Note.objects.filter(text="x").delete()
        return [q["sql"].split(" ")[0] for q in ctx.captured_queries]

    runtime.stop()
    without = scenario()
    _probe, captured = start_recording(
        ProbeConfig(mode="receivers", include_delete_signals=include_delete))
    try:
        with_probe = scenario()
    finally:
        runtime.stop()
    if include_delete:
        # Documented trade-off: a receiver on pre/post_delete disables fast delete.
        assert with_probe != without and "SELECT" in with_probe
        assert any(d.signal.endswith("post_delete") for d in captured)
    else:
        assert with_probe == without == ["DELETE"]
