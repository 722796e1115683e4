"""Views of the accounts app: login (sends login_succeeded), signup and the profile page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.generic import CreateView

from demo_site.accounts.models import AuditEntry, UserProfile
from demo_site.accounts.signals import login_succeeded


class DemoLoginView(LoginView):
    """Django's login view, plus our own signal once the user is logged in."""

    template_name = "registration/login.html"

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)  # auth.login() sends user_logged_in here
        login_succeeded.send(sender=self.__class__, user=form.get_user(),
                             timestamp=timezone.now())
        return response


class SignupView(CreateView):
    """Create an account (the user's post_save creates its profile), then log in."""

    form_class = UserCreationForm
    template_name = "registration/signup.html"

    def form_valid(self, form: UserCreationForm) -> HttpResponse:
        form.save()
        return redirect("login")


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    """The logged-in user's profile and their recent audit trail."""
    user_profile, _ = UserProfile.objects.get_or_create(user=request.user)
    entries = AuditEntry.objects.filter(username=request.user.get_username())[:10]
    return render(request, "accounts/profile.html",
                  {"profile": user_profile, "entries": entries})
