"""settings.py excerpt: backendkit with Django REST framework."""

REST_FRAMEWORK = {
    # DRF's exceptions (validation, auth, throttling, 404, 405...) in the envelope.
    "EXCEPTION_HANDLER": "backendkit.adapters.drf.exception_handler",
    # Bearer access tokens verified by the kit's TokenService; request.user is the Principal.
    "DEFAULT_AUTHENTICATION_CLASSES": ["backendkit.adapters.drf.JWTAuthentication"],
    # Bodies read under the cap and parsed by the core: deep nesting is a 400, not a 500.
    "DEFAULT_PARSER_CLASSES": ["backendkit.adapters.drf.JSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "backendkit.adapters.drf.ContentNegotiation",
    # Responses wrapped in {"success": true, "data": ...}.
    "DEFAULT_RENDERER_CLASSES": ["backendkit.adapters.drf.EnvelopeJSONRenderer"],
    # List views answer the page envelope ({"data": [...], "pagination": {...}}).
    "DEFAULT_PAGINATION_CLASS": "backendkit.adapters.drf.PagePagination",
    # No AnonymousUser: request.user is None without credentials.
    "UNAUTHENTICATED_USER": None,
}
