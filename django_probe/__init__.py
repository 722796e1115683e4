"""django_probe: add "django_probe" to INSTALLED_APPS to stream every signal dispatch.

Importing the package itself imports nothing from Django or zmq, so the monitor can use
``django_probe.wire`` without Django installed.
"""

__version__ = "0.1.0"
