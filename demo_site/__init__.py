"""A small Django project whose signals make the monitor interesting (the demo)."""
