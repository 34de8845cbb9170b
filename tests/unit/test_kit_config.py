"""kit_from_config: a framework's BACKENDKIT dict -> a WebKit, or a ConfigurationError naming it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from backendkit._kit_config import kit_from_config
from backendkit.errors import ConfigurationError
from backendkit.settings import Settings
from backendkit.web import DEFAULT_API_PREFIXES, WebKit

NAME = "settings.BACKENDKIT"
SECRET = "a-secret-key-of-at-least-16-bytes"
#: Imported by dotted path below (not built at import: only when a test asks for it).
NOT_A_KIT = 42


def make() -> WebKit:
    """A kit factory, named by dotted path."""
    return WebKit.from_settings(Settings(env="test", secret_key=SECRET))


@pytest.fixture(autouse=True)
def _no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BACKENDKIT_SECRET_KEY", raising=False)


@pytest.fixture
def built() -> Iterator[list[WebKit]]:
    """Kits made by a test, closed after it."""
    kits: list[WebKit] = []
    yield kits
    for kit in kits:
        kit.close()


def _kit(built: list[WebKit], raw: Any, **options: Any) -> tuple[WebKit, bool]:
    kit, owned = kit_from_config(raw, name=NAME, **options)
    built.append(kit)
    return kit, owned


def _secrets(kit: WebKit) -> list[str]:
    return [key.get_secret_value() for key in kit.settings.secret_key]


def _no_secrets() -> list[str]:
    raise AssertionError("the framework's secrets are read only when no secret is given")


def test_settings_keys_in_any_case_build_an_owned_kit(built: list[WebKit]) -> None:
    """Settings fields, upper or lower case, over the environment; the caller owns the kit."""
    raw = {"env": "test", "SECRET_KEY": SECRET, "max_body_bytes": 2048}
    kit, owned = _kit(built, raw, secret_keys=_no_secrets)
    assert owned is True
    assert kit.max_body_bytes == 2048
    assert kit.api_prefixes == DEFAULT_API_PREFIXES


@pytest.mark.parametrize("raw", [None, {}])
def test_an_absent_dict_is_an_empty_one(raw: Any, built: list[WebKit]) -> None:
    """No dict at all: a kit of the environment and the framework's secret."""
    kit, owned = _kit(built, raw, secret_keys=lambda: [SECRET])
    assert owned is True
    assert isinstance(kit, WebKit)


def test_a_dict_that_is_no_mapping_is_refused() -> None:
    """A list is refused, naming the dict (the twins above pass mappings)."""
    with pytest.raises(ConfigurationError, match=r"^settings\.BACKENDKIT must be a dict$"):
        kit_from_config(["ENV"], name=NAME)


def test_an_unknown_key_is_refused_by_name() -> None:
    """A key that is no settings field is named in upper case (twin: the known keys above)."""
    with pytest.raises(ConfigurationError, match=r"unknown keys in settings\.BACKENDKIT: NOPE"):
        kit_from_config({"env": "test", "nope": 1}, name=NAME)


def test_the_framework_secrets_fill_in_and_empty_ones_are_skipped(built: list[WebKit]) -> None:
    """Without a secret anywhere, the framework's non-empty keys are used, first signing."""
    kit, _ = _kit(built, {"ENV": "test"}, secret_keys=lambda: ["", SECRET, SECRET + "-old"])
    assert _secrets(kit) == [SECRET, SECRET + "-old"]


def test_an_environment_secret_wins_over_the_framework(
    built: list[WebKit], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``BACKENDKIT_SECRET_KEY`` set: the framework's secrets are never read."""
    monkeypatch.setenv("BACKENDKIT_SECRET_KEY", SECRET)
    kit, _ = _kit(built, {"ENV": "test"}, secret_keys=_no_secrets)
    assert _secrets(kit) == [SECRET]


def test_api_prefixes_scope_the_kit(built: list[WebKit]) -> None:
    """A list of paths is the kit's API scope."""
    kit, _ = _kit(built, {"ENV": "test", "SECRET_KEY": SECRET, "API_PREFIXES": ["/v1/"]})
    assert kit.api_prefixes == ("/v1/",)


@pytest.mark.parametrize(
    ("value", "message"),
    [("/v1/", "must be a list of path prefixes"), (["v1/"], "entries must start with '/'")],
)
def test_bad_api_prefixes_are_refused(value: Any, message: str) -> None:
    """A bare string or a relative path is refused (twin: the list above)."""
    with pytest.raises(ConfigurationError, match=rf"^BACKENDKIT\['API_PREFIXES'\] {message}"):
        kit_from_config({"ENV": "test", "API_PREFIXES": value}, name=NAME)


def test_a_kit_handed_in_is_not_owned_and_takes_the_prefixes(built: list[WebKit]) -> None:
    """``KIT`` (an instance) is used as it is, ``API_PREFIXES`` replacing its own."""
    mine = make()
    built.append(mine)
    kit, owned = kit_from_config({"kit": mine}, name=NAME)
    assert (kit, owned) == (mine, False)
    scoped, _ = kit_from_config({"KIT": mine, "API_PREFIXES": ["/v2/"]}, name=NAME)
    assert scoped.api_prefixes == ("/v2/",)
    assert scoped.settings is mine.settings


def test_a_kit_path_names_a_kit_or_a_factory(built: list[WebKit]) -> None:
    """A dotted path to a factory builds the kit (not owned: its maker closes it)."""
    kit, owned = _kit(built, {"KIT": f"{__name__}.make"})
    assert isinstance(kit, WebKit)
    assert owned is False


def test_a_kit_with_settings_beside_it_is_refused() -> None:
    """``KIT`` brings its own settings: others beside it are named."""
    with pytest.raises(ConfigurationError, match=r"brings its own settings; remove ENV, MAX_"):
        kit_from_config({"KIT": f"{__name__}.make", "ENV": "test", "max_body_bytes": 1}, name=NAME)


def test_a_kit_path_to_something_else_is_refused() -> None:
    """A path to an object that is no WebKit (nor builds one) is refused."""
    with pytest.raises(ConfigurationError, match=r"^BACKENDKIT\['KIT'\] must be a WebKit"):
        kit_from_config({"KIT": f"{__name__}.NOT_A_KIT"}, name=NAME)


@pytest.mark.parametrize("path", ["nodots", f"{__name__}.missing", "no_such_module_xyz.kit"])
def test_a_kit_path_that_does_not_import_is_an_import_error(path: str) -> None:
    """A path without a module, a missing attribute or module: ImportError."""
    with pytest.raises(ImportError):
        kit_from_config({"KIT": path}, name=NAME)
