"""The API's URLs, under ``/api/v1/``."""

from django.urls import path

from examples.django_app.users import views

urlpatterns = [
    path("auth/register", views.register),
    path("auth/login", views.login),
    path("auth/refresh", views.refresh),
    path("auth/logout", views.logout),
    path("auth/password-reset", views.password_reset),
    path("auth/password-reset/confirm", views.password_reset_confirm),
    path("auth/api-keys", views.ApiKeyList.as_view()),
    path("auth/api-keys/<str:key_id>", views.ApiKeyDetail.as_view()),
    path("users", views.UserList.as_view()),
    path("users/me", views.me),
    path("users/<str:user_id>", views.UserDetail.as_view()),
]
