"""Two views: a plain page and one that sends a custom signal inside the request."""

from django.dispatch import Signal
from django.http import HttpResponse
from django.urls import path

page_viewed = Signal()


def hello(request):
    page_viewed.send(sender=None, path=request.path)
    return HttpResponse("hello")


urlpatterns = [path("hello/", hello)]
