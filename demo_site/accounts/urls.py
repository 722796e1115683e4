"""URLs of the accounts app."""

from django.contrib.auth.views import LogoutView
from django.urls import path

from demo_site.accounts import views

urlpatterns = [
    path("login/", views.DemoLoginView.as_view(), name="login"),
    path("logout/", LogoutView.as_view(), name="logout"),
    path("signup/", views.SignupView.as_view(), name="signup"),
    path("profile/", views.profile, name="profile"),
]
