"""Cache keys: bound arguments, normalization, methods, templates, namespaces."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import uuid
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from backendkit.cache._keys import (
    KeyBuilder,
    KeyMemo,
    digest,
    entry_keys,
    namespace_key,
    normalize,
    validate_name,
)
from backendkit.errors import ConfigurationError


def f(a: int, b: str = "x", *, c: bool = False) -> int:
    return a


def g(a: int, b: str = "x") -> int:
    return a


class Color(enum.Enum):
    RED = "red"


class Point(BaseModel):
    x: int
    y: int


@dataclasses.dataclass
class DPoint:
    x: int


class Repo:
    def __init__(self, tenant: str) -> None:
        self.tenant = tenant

    def get(self, uid: int) -> int:
        return uid

    @classmethod
    def make(cls, uid: int) -> int:
        return uid


def test_positional_keyword_and_default_calls_share_a_key() -> None:
    """f(1), f(1, "x") and f(a=1, b="x") bind to the same arguments, so the same key."""
    kb = KeyBuilder(f)
    parts = {
        kb.part((1,), {}),
        kb.part((1, "x"), {}),
        kb.part((), {"a": 1, "b": "x"}),
        kb.part((1,), {"b": "x", "c": False}),
    }
    assert len(parts) == 1
    assert kb.part((2,), {}) not in parts


def test_simple_signature_fast_path_matches_inspect() -> None:
    """The fast binding of plain parameters gives what inspect.bind + defaults gives."""
    kb = KeyBuilder(g)
    assert kb.bind((1,), {}) == {"a": 1, "b": "x"}
    assert kb.bind((), {"b": "y", "a": 2}) == {"a": 2, "b": "y"}
    assert kb.part((1,), {"b": "x"}) == kb.part((), {"a": 1})


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [((1, 2, 3), {}), ((1,), {"a": 1}), ((), {}), ((1,), {"zzz": 1})],
)
def test_arguments_that_do_not_fit_raise_type_error(
    args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    """Arguments the call itself would reject raise the usual TypeError."""
    with pytest.raises(TypeError):
        KeyBuilder(g).bind(args, kwargs)


def test_var_args_and_kwargs_are_keyed_in_order_independent_form() -> None:
    """*args stay ordered; **kwargs are keyed regardless of their order."""

    def h(*args: int, **kwargs: int) -> int:
        return 0

    kb = KeyBuilder(h)
    assert kb.part((1, 2), {"x": 1, "y": 2}) == kb.part((1, 2), {"y": 2, "x": 1})
    assert kb.part((1, 2), {}) != kb.part((2, 1), {})


def test_key_carries_the_qualified_name() -> None:
    """Two functions with equal arguments never share an entry."""
    assert KeyBuilder(f).part((1,), {}) != KeyBuilder(g).part((1,), {})
    assert f"{__name__}:f:" in KeyBuilder(f).part((1,), {})


def test_self_is_excluded_by_default() -> None:
    """Two instances with equal arguments share an entry: no address leaks into the key."""
    kb = KeyBuilder(Repo.get)
    a, b = Repo("t1"), Repo("t2")
    assert kb.part((a, 5), {}) == kb.part((b, 5), {})
    assert hex(id(a))[2:] not in kb.part((a, 5), {})


def test_self_attr_keys_the_instance_by_an_attribute() -> None:
    """With self_attr, instances differ by that attribute only."""
    kb = KeyBuilder(Repo.get, self_attr="tenant")
    assert kb.part((Repo("t1"), 5), {}) != kb.part((Repo("t2"), 5), {})
    assert kb.part((Repo("t1"), 5), {}) == kb.part((Repo("t1"), 5), {})


def test_cls_is_excluded_for_classmethods() -> None:
    """A classmethod's cls is a receiver like self."""
    kb = KeyBuilder(Repo.make.__func__)
    assert kb.part((Repo, 1), {}) == kb.part((object, 1), {})


def test_self_attr_needs_a_method() -> None:
    """self_attr on a plain function is a configuration error; on a method it is accepted."""
    with pytest.raises(ConfigurationError):
        KeyBuilder(g, self_attr="x")
    KeyBuilder(Repo.get, self_attr="tenant")


def test_ignore_leaves_parameters_out() -> None:
    """Ignored parameters do not change the key; unknown names are refused."""
    kb = KeyBuilder(g, ignore=("b",))
    assert kb.part((1, "x"), {}) == kb.part((1, "other"), {})
    with pytest.raises(ConfigurationError, match="unknown parameters"):
        KeyBuilder(g, ignore=("nope",))


def test_arbitrary_objects_are_refused_not_keyed_by_repr() -> None:
    """An argument without a JSON form raises TypeError instead of keying by its address."""
    with pytest.raises(TypeError, match="no JSON form"):
        KeyBuilder(g).part((object(),), {})
    KeyBuilder(g).part((1,), {})


def test_template_key() -> None:
    """A template formats bound arguments, defaults and attributes included."""
    kb = KeyBuilder(g, key="user:{a}:{b}")
    assert kb.part((1,), {}) == "k:user:1:x"
    kb2 = KeyBuilder(Repo.get, key="{self.tenant}:{uid}")
    assert kb2.part((Repo("t1"), 5), {}) == "k:t1:5"


@pytest.mark.parametrize(
    ("template", "message"),
    [("{nope}", "not a parameter"), ("{self}:{uid}", "formats the instance"), ("{", "invalid")],
)
def test_bad_templates_are_refused(template: str, message: str) -> None:
    """Templates naming unknown parameters, the bare instance, or malformed are refused."""
    with pytest.raises(ConfigurationError, match=message):
        KeyBuilder(Repo.get, key=template)


def test_callable_key() -> None:
    """A key callable gets the call's arguments; it must return a string."""
    kb = KeyBuilder(g, key=lambda a, b="x": f"{a}-{b}")
    assert kb.part((1,), {"b": "y"}) == "k:1-y"
    bad = KeyBuilder(g, key=lambda a, b="x": 1)  # type: ignore[arg-type,return-value]
    with pytest.raises(TypeError, match="must return str"):
        bad.part((1,), {})


def test_normalize_types() -> None:
    """Sets sort, enums give their value, models/dataclasses/UUIDs/Decimals/datetimes convert."""
    uid = uuid.UUID(int=5)
    when = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    assert normalize({3, 1, 2}) == [1, 2, 3]
    assert normalize(frozenset({"b", "a"})) == ["a", "b"]
    assert normalize(Color.RED) == "red"
    assert normalize(Point(x=1, y=2)) == {"x": 1, "y": 2}
    assert normalize(DPoint(x=1)) == {"x": 1}
    assert normalize(uid) == str(uid)
    assert normalize(decimal.Decimal("1.50")) == "1.50"
    assert normalize(when) == "2024-01-02T03:04:05Z"
    assert normalize((1, [2])) == [1, [2]]
    assert normalize({1: "a"}) != normalize({"1": "a"})

    class S(str):
        pass

    assert type(normalize(S("x"))) is str


def test_normalize_mappings_that_are_not_dicts() -> None:
    """Any Mapping is keyed like a dict."""
    import types

    assert normalize(types.MappingProxyType({"a": 1})) == {"a": 1}


def test_distinct_values_give_distinct_digests() -> None:
    """1, 1.0, True and "1" are different arguments, so different keys."""
    digests = {digest({"a": v}) for v in (1, 1.0, True, "1", None)}
    assert len(digests) == 5


@given(
    st.dictionaries(
        st.text(max_size=5),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=5),
            lambda inner: st.lists(inner, max_size=3) | st.frozensets(st.integers(), max_size=3),
            max_leaves=8,
        ),
        max_size=4,
    )
)
def test_digest_ignores_dict_order(data: dict[str, Any]) -> None:
    """The digest of a mapping does not depend on insertion order."""
    reordered = dict(reversed(list(data.items())))
    assert digest(data) == digest(reordered)


@given(st.integers(), st.text(max_size=10))
def test_positional_and_keyword_forms_agree(a: int, b: str) -> None:
    """For any arguments, positional and keyword forms build the same key."""
    kb = KeyBuilder(f)
    assert kb.part((a, b), {}) == kb.part((), {"b": b, "a": a})


def test_entry_key_layout_shares_the_namespace_hash_tag() -> None:
    """Entry, generation, lock and wake keys all carry {namespace}, so one Cluster slot."""
    keys = entry_keys("p:", "users", "3", "f:x:abc")
    assert keys.entry == "p:{users}:v3:f:x:abc"
    assert keys.namespace == namespace_key("p:", "users") == "p:{users}:gen"
    assert keys.lock == "p:{users}:lock:v3:f:x:abc"
    assert keys.wake == "p:{users}:wake:v3:f:x:abc"
    assert len({keys.entry, keys.namespace, keys.lock, keys.wake}) == 4


@pytest.mark.parametrize("bad", ["", "a{b", "a}b", "a b", "a\nb", 5])
def test_validate_name_refuses_braces_whitespace_and_empty(bad: Any) -> None:
    """Names that would break the hash tag or tooling are refused; clean ones pass."""
    with pytest.raises(ConfigurationError):
        validate_name(bad, "namespace")
    assert validate_name("users.v2-x_y:z", "namespace") == "users.v2-x_y:z"
    assert validate_name("", "prefix", allow_empty=True) == ""


def test_key_memo_remembers_plain_positional_calls_only() -> None:
    """Plain positional calls are built once; equal values of other types keep their keys."""
    built: list[tuple[object, ...]] = []

    def f(a: object, b: object = 0) -> None: ...

    builder = KeyBuilder(f)
    real_part = builder.part

    def counting_part(args: tuple[object, ...], kwargs: dict[str, object]) -> str:
        built.append(args)
        return real_part(args, kwargs)

    builder.part = counting_part  # type: ignore[method-assign]
    memo = KeyMemo(entry_keys("p:", "ns", "1", ""), builder, size=3)
    first = memo.keys((1,), {})
    assert memo.keys((1,), {}) is first
    assert len(built) == 1
    assert memo.keys((True,), {}).entry != first.entry  # 1 == True, but not as a key
    assert memo.keys((1.0,), {}).entry != first.entry
    assert memo.keys((1,), {"b": 0}).entry == first.entry  # kwargs: built, not remembered
    assert memo.keys(([1],), {}).entry == memo.keys(([1],), {}).entry  # a list: built each time
    assert len(built) == 6
    memo.keys(("x",), {})  # the fourth slot: the memo starts over
    memo.keys((1,), {})
    assert len(built) == 8


def test_key_memo_never_skips_a_key_callable() -> None:
    """A key callable is application code: it runs on every call."""
    calls: list[int] = []

    def key(a: int) -> str:
        calls.append(a)
        return f"k{a}"

    def f(a: int) -> None: ...

    memo = KeyMemo(entry_keys("p:", "ns", "1", ""), KeyBuilder(f, key=key))
    assert memo.keys((1,), {}).entry == memo.keys((1,), {}).entry
    assert calls == [1, 1]
