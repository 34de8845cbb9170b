"""The root URLconf: ``/health`` and the API under ``/api/v1/``."""

from django.urls import include, path

from backendkit.adapters.django import views as backendkit_views
from examples.django_app.users.views import health

urlpatterns = [
    path("health", health),
    path("api/v1/", include("examples.django_app.users.urls")),
]

# Errors Django answers itself (route misses, server errors) come out in the envelope too.
handler400 = backendkit_views.bad_request
handler403 = backendkit_views.permission_denied
handler404 = backendkit_views.page_not_found
handler500 = backendkit_views.server_error
