"""Reusable field types: a normalized email, passwords under a byte-length policy, ids, UUIDs.

Use them as annotations on [`ApiModel`][backendkit.validation.ApiModel] fields. Their error
messages never contain the submitted value.

Example:
    >>> from backendkit.validation import ApiModel
    >>> class Register(ApiModel):
    ...     email: Email
    ...     password: Password
    >>> Register(email="  Ada@Example.COM ", password="correct horse").email
    'ada@example.com'
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    WithJsonSchema,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from backendkit.validation._checks import not_bool

__all__ = [
    "EMAIL_MAX_LENGTH",
    "Email",
    "Password",
    "PasswordPolicy",
    "PositiveId",
    "UUIDStr",
    "normalize_email",
    "password_field",
]

#: Longest accepted address (RFC 5321 path limit minus the angle brackets).
EMAIL_MAX_LENGTH = 254
_LOCAL_MAX_LENGTH = 64
# Dot-atom local part (RFC 5322 atext, no quoted strings, no comments) and a DNS host name
# with at least two labels and an alphabetic or punycode top-level label. Deliberately
# narrower than the RFCs: an address outside this set is almost always a typo.
_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_DOMAIN = re.compile(
    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})"
)
_MAX_ID = 2**63 - 1  # the largest BIGINT


def normalize_email(value: str) -> str:
    """Return the normalized address, or raise ``ValueError`` if it is not acceptable.

    Surrounding whitespace is removed and the whole address is lower-cased. RFC 5321 lets a
    mail server treat the local part case-sensitively, but no common provider does, and one
    canonical form is what makes a unique index on the column mean "one account per
    mailbox". Only ASCII addresses are accepted (use punycode for international domains).

    Example:
        >>> normalize_email(" Ada.Lovelace@Example.org ")
        'ada.lovelace@example.org'
    """
    text = value.strip().lower()
    if len(text) > EMAIL_MAX_LENGTH or not text.isascii():
        raise ValueError("invalid email")
    local, at, domain = text.rpartition("@")
    if (
        not at
        or len(local) > _LOCAL_MAX_LENGTH
        or _LOCAL.fullmatch(local) is None
        or _DOMAIN.fullmatch(domain) is None
    ):
        raise ValueError("invalid email")
    return text


def _email(value: str) -> str:
    try:
        return normalize_email(value)
    except ValueError:
        raise PydanticCustomError(
            "email_invalid", "Input should be a valid email address"
        ) from None


#: A normalized (stripped, lower-cased) email address of at most 254 characters.
Email = Annotated[
    str,
    AfterValidator(_email),
    WithJsonSchema({"type": "string", "format": "email", "maxLength": EMAIL_MAX_LENGTH}),
]


@dataclass(frozen=True, slots=True)
class PasswordPolicy:
    """Annotated metadata that turns a ``str`` field into a password field.

    The value is Unicode-normalized (NFKC by default, so the same password typed on two
    keyboards gives the same bytes), then its UTF-8 length must lie in
    ``[min_bytes, max_bytes]``. It is never stripped or trimmed: spaces are characters of
    the password. The model holds the normalized text as a ``str`` subclass whose ``repr``
    is masked, so a logged model or traceback shows ``'**********'`` (``str()``, hashing
    and JSON output see the real text). The JSON schema marks it ``format: password`` and
    ``writeOnly``. 72 bytes is bcrypt's limit: raise ``max_bytes`` only with a hasher that
    has no such limit.

    Example:
        >>> from typing import Annotated
        >>> from backendkit.validation import ApiModel
        >>> class Login(ApiModel):
        ...     password: Annotated[str, PasswordPolicy(min_bytes=12)]
        >>> Login(password="correct horse battery")
        Login(password='**********')
    """

    min_bytes: int = 8
    max_bytes: int = 72
    normalization: Literal["NFC", "NFKC"] | None = "NFKC"

    def __post_init__(self) -> None:
        if not 1 <= self.min_bytes <= self.max_bytes:
            raise ValueError("need 1 <= min_bytes <= max_bytes")

    def check(self, value: str) -> str:
        """Return the normalized password or raise a pydantic error without the value."""
        text = unicodedata.normalize(self.normalization, value) if self.normalization else value
        try:
            size = len(text.encode("utf-8"))
        except UnicodeEncodeError:  # lone surrogates, never valid UTF-8
            raise PydanticCustomError(
                "password_invalid", "Password must be valid Unicode text"
            ) from None
        if size < self.min_bytes:
            raise PydanticCustomError(
                "password_too_short",
                "Password must be at least {min_bytes} bytes long",
                {"min_bytes": self.min_bytes},
            )
        if size > self.max_bytes:
            raise PydanticCustomError(
                "password_too_long",
                "Password must be at most {max_bytes} bytes long",
                {"max_bytes": self.max_bytes},
            )
        return _MaskedStr(text)

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        """Run [`check`][backendkit.fields.PasswordPolicy.check] after the ``str`` schema."""
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """Mark the field as a write-only password."""
        json_schema = handler(schema)
        json_schema.update(format="password", writeOnly=True)
        return json_schema


def password_field(
    *,
    min_bytes: int = 8,
    max_bytes: int = 72,
    normalization: Literal["NFC", "NFKC"] | None = "NFKC",
) -> Any:
    """Build a password type with another byte-length rule.

    Shorthand for ``Annotated[str, PasswordPolicy(...)]``. The result is built at run time,
    so a type checker sees ``Any``: write the ``Annotated`` form where the annotation must
    type-check.

    Example:
        >>> from backendkit.validation import ApiModel
        >>> LongPassword = password_field(min_bytes=12)
        >>> class Login(ApiModel):
        ...     password: LongPassword
        >>> Login(password="a" * 12).password == "a" * 12
        True
    """
    policy = PasswordPolicy(min_bytes=min_bytes, max_bytes=max_bytes, normalization=normalization)
    return Annotated[str, policy]


#: A password of 8 to 72 UTF-8 bytes after NFKC normalization, masked in ``repr``.
Password = Annotated[str, PasswordPolicy()]


class _MaskedStr(str):
    """A ``str`` whose ``repr`` hides it; everything else (``str()``, ``==``, JSON) is plain."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'**********'"


#: A database id: an integer from 1 to 2**63 - 1 (``"42"`` from a path or query is accepted).
PositiveId = Annotated[int, Field(ge=1, le=_MAX_ID), BeforeValidator(not_bool)]


def _uuid(value: Any) -> str:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, str) and len(value) <= 45:  # urn:uuid: prefix + 36 characters
        try:
            return str(uuid.UUID(value))
        except ValueError:
            pass
    raise PydanticCustomError("uuid_parsing", "Input should be a valid UUID")


#: A UUID in canonical form: lower-case, hyphenated (``"0f8fad5b-d9cb-469f-a165-70867728950e"``).
UUIDStr = Annotated[
    str,
    BeforeValidator(_uuid),
    WithJsonSchema({"type": "string", "format": "uuid"}),
]
