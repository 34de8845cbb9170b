"""The root URLconf: ``/health``, ``/metrics`` and the API under ``/api/v1/``."""

from django.conf import settings
from django.urls import include, path

from backendkit.adapters.django import metrics_view
from backendkit.adapters.django import views as backendkit_views
from examples.django_app.users.views import health

urlpatterns = [
    path("health", health),
    # Prometheus scrapes /metrics (neither it nor /health is counted or rate limited).
    path("metrics", metrics_view(token=settings.EXAMPLE.metrics_token)),
    path("api/v1/", include("examples.django_app.users.urls")),
]

# Errors Django answers itself (route misses, server errors) come out in the envelope too.
handler400 = backendkit_views.bad_request
handler403 = backendkit_views.permission_denied
handler404 = backendkit_views.page_not_found
handler500 = backendkit_views.server_error
