"""URLconf of the DRF harness (selected per request through ``request.urlconf``)."""

from __future__ import annotations

from tests.adapters._django_app import drf_harness_patterns

urlpatterns = list(drf_harness_patterns)

handler400 = "backendkit.adapters.django.views.bad_request"
handler403 = "backendkit.adapters.django.views.permission_denied"
handler404 = "backendkit.adapters.django.views.page_not_found"
handler500 = "backendkit.adapters.django.views.server_error"
