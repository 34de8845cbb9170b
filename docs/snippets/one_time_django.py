"""Django: a password reset in two views, request (202 whatever the email) and confirm.

``reset_urls(...)`` goes in your ``urlpatterns``; the kit comes from
``settings.BACKENDKIT`` as for every view.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path
from django.views.decorators.http import require_http_methods
from pydantic import Field

from backendkit.adapters.django import client_key, current_kit, read_json, success_response
from backendkit.auth import PASSWORD_RESET, OneTimeTokens
from backendkit.errors import ConfigurationError
from backendkit.validation import ApiModel


class ResetRequest(ApiModel):
    email: str = Field(max_length=320)  # any string: a malformed email gets the same 202


class ResetConfirm(ApiModel):
    token: str = Field(max_length=100)
    password: str = Field(min_length=12, max_length=128)  # your password policy


def reset_urls(
    tokens: OneTimeTokens,  # its sender mails the link (or queues the mail)
    find_user: Callable[[str], str | None],  # email -> user id, or None
    set_password: Callable[[str, str], None],  # hash and save the new password
) -> list[URLPattern]:
    @require_http_methods(["POST"])
    def request_reset(request: HttpRequest) -> HttpResponse:
        body = read_json(request, ResetRequest)
        # The same work and the same answer whether the email has an account or not.
        user_id = find_user(body.email)
        tokens.issue(PASSWORD_RESET, body.email, user_id=user_id, address=client_key(request))
        message = "If the account exists, a reset link is on its way"
        return success_response(message=message, status=202)

    @require_http_methods(["POST"])
    def confirm_reset(request: HttpRequest) -> HttpResponse:
        body = read_json(request, ResetConfirm)
        sessions = current_kit().tokens
        if sessions is None:
            raise ConfigurationError("settings.BACKENDKIT's kit needs a TokenService")
        # Used, expired, changed or another purpose: InvalidOneTimeToken, a 400.
        user_id = tokens.consume(PASSWORD_RESET, body.token).user_id
        set_password(user_id, body.password)
        tokens.invalidate(user_id, PASSWORD_RESET)  # other links in the mailbox
        sessions.revoke_user(user_id)  # every session of the account ends
        return success_response(status=204)

    return [
        path("api/v1/auth/password-reset", request_reset),
        path("api/v1/auth/password-reset/confirm", confirm_reset),
    ]
