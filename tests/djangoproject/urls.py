"""URLs of the shared test project.

Tests route requests to their own URLconf (``request.urlconf``); the error handlers live
here because Django reads them from ``ROOT_URLCONF`` for errors raised outside any view.
"""

from __future__ import annotations

from typing import Any

urlpatterns: list[Any] = []

handler400 = "backendkit.adapters.django.views.bad_request"
handler403 = "backendkit.adapters.django.views.permission_denied"
handler404 = "backendkit.adapters.django.views.page_not_found"
handler500 = "backendkit.adapters.django.views.server_error"
