"""Cache keys: from a function's qualified name and its bound arguments.

A key is built once per call, identically for sync and async functions:

```
<prefix>{<namespace>}:v<version>:f:<module>:<qualname>:<digest of the normalized arguments>
<prefix>{<namespace>}:v<version>:k:<custom key>           (key= template or callable)
<prefix>{<namespace>}:gen                                  (the namespace generation)
<prefix>{<namespace>}:lock:v<version>:...                  (the cross-process load lock)
<prefix>{<namespace>}:wake:v<version>:...                  (wakes the processes that wait)
```

The namespace sits in braces, a Redis Cluster hash tag: every key of a namespace lives in
one slot, so one script can read the namespace generation with the entry and take the lock.
Arguments are bound with ``inspect.signature().bind`` plus defaults, so ``f(1)``,
``f(1, b=2)`` and ``f(a=1, b=2)`` (when ``b`` defaults to 2) share an entry. Values are
normalized to their JSON form through pydantic and hashed; an argument that has no JSON form
(an arbitrary object) is refused rather than keyed by its ``repr``, which would leak memory
addresses into keys and never hit twice.
"""

from __future__ import annotations

import hashlib
import inspect
import string
from collections.abc import Callable, Collection, Mapping
from enum import Enum
from typing import Any

from pydantic_core import PydanticSerializationError, to_json, to_jsonable_python

from backendkit.errors import ConfigurationError

__all__ = ["EntryKeys", "KeyBuilder", "KeyMemo", "entry_keys", "namespace_key", "validate_name"]

# Characters a namespace, version or prefix may not contain: braces would break the
# Cluster hash tag, whitespace and control characters make keys unreadable in tooling.
_FORBIDDEN = frozenset("{}") | frozenset(chr(c) for c in range(33))

# Parameters that stand for the instance or the class of a method.
_RECEIVERS = ("self", "cls")

_PLAIN = (str, int, float, bool)
_PLAIN_TYPES = frozenset({str, int, float, bool, type(None)})


def validate_name(value: str, what: str, *, allow_empty: bool = False) -> str:
    """Return ``value`` if it is usable inside a key, else raise ``ConfigurationError``."""
    if not isinstance(value, str) or (not value and not allow_empty):
        raise ConfigurationError(f"cache {what} must be a non-empty string, got {value!r}")
    bad = sorted(set(value) & _FORBIDDEN)
    if bad:
        raise ConfigurationError(
            f"cache {what} {value!r} contains forbidden characters {bad!r} "
            "(braces, whitespace and control characters are not allowed)"
        )
    return value


class EntryKeys:
    """The Redis keys that one cache entry uses; all share the namespace hash tag.

    ``lock`` and ``wake`` are only needed on a miss, so they are built on demand.
    """

    __slots__ = ("_head", "_rest", "entry", "namespace")

    def __init__(self, head: str, rest: str) -> None:
        self._head = head
        self._rest = rest
        self.entry = head + rest
        self.namespace = head + "gen"

    def extend(self, part: str) -> EntryKeys:
        """The keys of the entry whose part is this one's followed by ``part``."""
        return EntryKeys(self._head, self._rest + part)

    @property
    def lock(self) -> str:
        """The cross-process load lock of this entry."""
        return self._head + "lock:" + self._rest

    @property
    def wake(self) -> str:
        """The wake-up stream of this entry (waiters block on it)."""
        return self._head + "wake:" + self._rest

    def __repr__(self) -> str:
        return f"EntryKeys({self.entry!r})"


class KeyMemo:
    """One function's entry keys, remembered for calls with plain positional arguments.

    A hot key is then built once, not normalized and hashed on every hit. Only exact
    ``str``/``int``/``float``/``bool``/``None`` arguments qualify: their key cannot
    change, and their types are part of the memo key (``1``, ``1.0`` and ``True`` are
    equal, their cache keys are not). Nothing is remembered with a key callable (the
    application's code runs on every call). The memo is emptied when it reaches ``size``.
    """

    def __init__(self, base: EntryKeys, builder: KeyBuilder, size: int = 4096) -> None:
        self._base = base
        self._builder = builder
        self._size = size
        self._keys: dict[tuple[Any, ...], EntryKeys] | None = {} if builder.deterministic else None

    def keys(self, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> EntryKeys:
        """The entry keys of one call."""
        memo = self._keys
        if memo is None or kwargs:
            return self._base.extend(self._builder.part(args, kwargs))
        types = tuple(map(type, args))
        if not _PLAIN_TYPES.issuperset(types):
            return self._base.extend(self._builder.part(args, kwargs))
        slot = (args, types)
        keys = memo.get(slot)
        if keys is None:
            keys = self._base.extend(self._builder.part(args, kwargs))
            if len(memo) >= self._size:
                memo.clear()
            memo[slot] = keys
        return keys


def namespace_key(prefix: str, namespace: str) -> str:
    """The key holding a namespace's current generation (bumped to invalidate it all)."""
    return f"{prefix}{{{namespace}}}:gen"


def entry_keys(prefix: str, namespace: str, version: str, part: str) -> EntryKeys:
    """Lay out the keys of the entry ``part`` in ``namespace`` at ``version``."""
    return EntryKeys(f"{prefix}{{{namespace}}}:", f"v{version}:{part}")


def _dumps(value: Any) -> bytes:
    # Canonical because normalize() sorted every mapping and set; compact, Rust-fast.
    return to_json(value)


def _dict_key(key: Any) -> str:
    # Non-string keys are tagged so {1: x} and {"1": x} stay different.
    return key if type(key) is str else "\x00" + _dumps(normalize(key)).decode()


def _mapping(value: Mapping[Any, Any]) -> dict[str, Any]:
    items = sorted((_dict_key(k), v) for k, v in value.items())
    return {k: normalize(v) for k, v in items}


def normalize(value: Any) -> Any:
    """Return the canonical JSON-compatible form of an argument value.

    Mappings get sorted string keys (non-string keys tagged), sets are sorted, enums become
    their value, bytes become tagged hex; pydantic converts models, dataclasses,
    datetimes, UUIDs and Decimals.

    Raises:
        TypeError: the value has no JSON form (an arbitrary object): key by another
            argument, exclude it with ``ignore=``, or pass ``key=``.
    """
    kind = type(value)
    if value is None or kind in _PLAIN:
        return value
    if kind is list or kind is tuple:
        return [normalize(item) for item in value]
    if isinstance(value, Mapping):
        return _mapping(value)
    if isinstance(value, (set, frozenset)):
        return sorted((normalize(item) for item in value), key=_dumps)
    if isinstance(value, Enum):
        return normalize(value.value)
    if isinstance(value, (bytes, bytearray)):
        return "\x00b" + bytes(value).hex()
    try:
        converted = to_jsonable_python(value)
    except PydanticSerializationError as exc:
        raise TypeError(
            f"cannot build a cache key from an argument of type {kind.__qualname__}: "
            "it has no JSON form (exclude it with ignore=..., or pass key=...)"
        ) from exc
    if isinstance(converted, _PLAIN):
        # Subclasses of plain types (a str subclass, say) come back unchanged: cast them.
        for plain in (bool, int, float, str):
            if isinstance(converted, plain):
                return plain(converted)
    return normalize(converted)


def digest(arguments: Mapping[str, Any]) -> str:
    """A short, stable hash of normalized arguments (128-bit BLAKE2b, hex)."""
    return hashlib.blake2b(_dumps(_mapping(arguments)), digest_size=16).hexdigest()


class KeyBuilder:
    """Builds the key part of one decorated function's entries from its call arguments.

    Args:
        fn: The decorated function (unwrapped).
        key: ``None`` (qualified name + normalized arguments), a ``str.format`` template
            whose fields name parameters (``"user:{user_id}"``, ``"{self.tenant}:{id}"``),
            or a callable taking the function's arguments and returning a string.
        ignore: Parameter names left out of the key (a database session, a logger).
        self_attr: For methods: key the instance by this attribute (e.g. ``"tenant_id"``).
            By default ``self``/``cls`` are left out of the key entirely.
    """

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        key: str | Callable[..., str] | None = None,
        ignore: Collection[str] = (),
        self_attr: str | None = None,
    ) -> None:
        self._signature = inspect.signature(fn)
        params = list(self._signature.parameters.values())
        names = [p.name for p in params]
        qualname = getattr(fn, "__qualname__", None)
        if qualname is None and key is None:
            # Two partials of one function would share a name and collide.
            raise ConfigurationError(
                f"{fn!r} has no qualified name to key by: decorate a function, or pass key="
            )
        self.qualname = f"{getattr(fn, '__module__', '')}:{qualname}"
        unknown = sorted(set(ignore) - set(names))
        if unknown:
            raise ConfigurationError(f"ignore= names unknown parameters {unknown!r}")
        self._receiver = names[0] if names and names[0] in _RECEIVERS else None
        if self_attr is not None and self._receiver is None:
            raise ConfigurationError("self_attr= needs a method whose first parameter is self")
        self._self_attr = self_attr
        self._ignore = frozenset(ignore)
        self._template: str | None = None
        self._key_fn: Callable[..., str] | None = None
        if isinstance(key, str):
            self._template = _check_template(key, names)
        elif key is not None:
            self._key_fn = key
        # Fast binding applies to the common shape: plain positional-or-keyword parameters.
        self._simple = all(p.kind is p.POSITIONAL_OR_KEYWORD for p in params)
        self._names = tuple(names)
        self._defaults = tuple(p.default for p in params)

    def bind(self, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> dict[str, Any]:
        """Bind call arguments to parameter names, defaults applied.

        Raises:
            TypeError: the arguments do not fit the signature (as the call itself would).
        """
        if self._simple and len(args) <= len(self._names):
            bound: dict[str, Any] = {}
            used = 0
            for index, name in enumerate(self._names):
                if index < len(args):
                    if name in kwargs:
                        break
                    bound[name] = args[index]
                elif name in kwargs:
                    bound[name] = kwargs[name]
                    used += 1
                elif self._defaults[index] is not inspect.Parameter.empty:
                    bound[name] = self._defaults[index]
                else:
                    break
            else:
                if used == len(kwargs):
                    return bound
        # Odd shapes and errors go through inspect, which raises the usual TypeError.
        ba = self._signature.bind(*args, **kwargs)
        ba.apply_defaults()
        return dict(ba.arguments)

    @property
    def deterministic(self) -> bool:
        """False with a key callable: application code that must run on every call."""
        return self._key_fn is None

    def part(self, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> str:
        """The entry part of the key for one call (see the module docstring)."""
        if self._key_fn is not None:
            return "k:" + _checked_custom(self._key_fn(*args, **kwargs))
        bound = self.bind(args, kwargs)
        if self._template is not None:
            return "k:" + self._template.format_map(bound)
        if self._receiver is not None:
            receiver = bound.pop(self._receiver)
            if self._self_attr is not None:
                bound[self._receiver] = getattr(receiver, self._self_attr)
        for name in self._ignore:
            bound.pop(name, None)
        return f"f:{self.qualname}:{digest(bound)}"


def _check_template(template: str, names: list[str]) -> str:
    fields = []
    try:
        for _, field, _, _ in string.Formatter().parse(template):
            if field is not None:
                fields.append(field)
    except ValueError as exc:
        raise ConfigurationError(f"invalid cache key template {template!r}: {exc}") from exc
    for field in fields:
        root = field.split(".", 1)[0].split("[", 1)[0]
        if root not in names:
            raise ConfigurationError(
                f"cache key template {template!r} names {root!r}, which is not a parameter"
            )
        if field in _RECEIVERS:
            raise ConfigurationError(
                f"cache key template {template!r} formats the instance itself; "
                f"use an attribute such as {{{field}.id}} (its repr is not a stable key)"
            )
    return template


def _checked_custom(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"a cache key callable must return str, not {type(value).__name__}")
    return value
