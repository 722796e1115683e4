"""URLs for bench_probe's scenario (d): Django's own LoginView and a page touching the session."""

from django.contrib.auth.views import LoginView
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt


def page(request):
    request.session["visits"] = request.session.get("visits", 0) + 1
    return HttpResponse(f"hello {request.user.get_username()}")


class BenchLoginView(LoginView):
    template_name = "registration/login.html"  # never rendered: we only POST valid credentials


urlpatterns = [
    path("login/", csrf_exempt(BenchLoginView.as_view(success_url_allowed_hosts=set(),
                                                      next_page="/page/"))),
    path("page/", page),
]
