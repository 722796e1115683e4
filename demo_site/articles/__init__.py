"""Articles: a small CRUD app whose signals have realistic side effects."""
