"""The API's URLs, under ``/api/v1/``."""

from django.urls import path

from examples.django_app.users import views

urlpatterns = [
    path("auth/register", views.register),
    path("auth/login", views.login),
    path("auth/refresh", views.refresh),
    path("auth/logout", views.logout),
    path("users", views.UserList.as_view()),
    path("users/me", views.me),
    path("users/<str:user_id>", views.UserDetail.as_view()),
]
