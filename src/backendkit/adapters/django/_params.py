"""``path_params``: typed URL parameters that answer a malformed value with a 400.

Django's own path converters (``<int:note_id>``) make a URL with a malformed value not
match at all, so the client gets a 404 where FastAPI answers ``400 VALIDATION_ERROR``.
A converter cannot raise a 400 instead: Django treats its ``ValueError`` as "try the next
pattern" and any other exception as a server error, and it never learns the parameter's
name. So the URL captures the segment as a plain ``<note_id>`` (the ``str`` converter) and
this decorator validates it in the view, with the core's validation and the same answer
as the other adapters.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from backendkit._extras import require

require("django", "django")

from asgiref.sync import iscoroutinefunction

from backendkit.errors import ConfigurationError
from backendkit.validation import path_validator

__all__ = ["path_params"]

V = TypeVar("V", bound=Callable[..., Any])


def path_params(**types: Any) -> Callable[[V], V]:
    """Decorator validating a view's URL parameters: a malformed one is a 400, not a 404.

    Capture the parameters as plain ``<name>`` segments and declare their types here; the
    view receives the converted values. A value that does not validate is
    ``400 VALIDATION_ERROR`` naming the parameter in camelCase (``noteId``), as FastAPI
    and the Flask adapter answer. Works on sync and async function views and on the
    methods of class-based views (DRF ``APIView`` included): only keyword arguments are read.

    Example:
        ```python
        @path_params(note_id=int)
        def get_note(request, note_id: int): ...

        urlpatterns = [path("api/notes/<note_id>", get_note)]
        ```

    Args:
        types: parameter name -> type (anything pydantic validates: ``int``, ``UUID``,
            ``Annotated[int, Field(ge=1)]``...).

    Raises:
        ValidationFailed: a parameter does not validate (400, field in camelCase).
        ConfigurationError: a declared parameter is not captured by the URL pattern.
    """
    check = path_validator(types)

    def convert(kwargs: dict[str, Any]) -> None:
        try:
            kwargs.update(check(kwargs))
        except KeyError as exc:
            raise ConfigurationError(f"path_params: no {exc} in the URL pattern") from None

    def decorate(view: V) -> V:
        if iscoroutinefunction(view):

            @functools.wraps(view)
            async def async_view(*args: Any, **kwargs: Any) -> Any:
                convert(kwargs)
                return await view(*args, **kwargs)

            return cast(V, async_view)

        @functools.wraps(view)
        def sync_view(*args: Any, **kwargs: Any) -> Any:
            convert(kwargs)
            return view(*args, **kwargs)

        return cast(V, sync_view)

    return decorate
