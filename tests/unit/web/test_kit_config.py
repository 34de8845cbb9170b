"""kit_from_config: a BACKENDKIT dict -> a WebKit; LazyPipeline: the one pipeline over it."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from backendkit.errors import ConfigurationError
from backendkit.settings import Settings
from backendkit.web import DEFAULT_API_PREFIXES, WebKit
from backendkit.web._kit_config import LazyPipeline, kit_from_config

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


class _Builds:
    """A ``build`` that counts its calls and hands out kits, owned or not."""

    def __init__(self, kits: list[WebKit], *, owned: bool = True) -> None:
        self.kits, self.owned, self.calls = kits, owned, 0

    def __call__(self) -> tuple[WebKit, bool]:
        self.calls += 1
        kit = make()
        self.kits.append(kit)
        return kit, self.owned


@pytest.fixture
def closed(monkeypatch: pytest.MonkeyPatch) -> list[WebKit]:
    """The kits closed during the test (WebKit.close recorded, then run)."""
    calls: list[WebKit] = []
    original = WebKit.close

    def close(self: WebKit) -> None:
        calls.append(self)
        original(self)

    monkeypatch.setattr(WebKit, "close", close)
    return calls


def test_a_lazy_pipeline_is_built_once_from_any_thread(built: list[WebKit]) -> None:
    """Many threads asking at once get the same pipeline, built by one call."""
    build = _Builds(built)
    lazy = LazyPipeline(build)
    with ThreadPoolExecutor(max_workers=8) as pool:
        pipelines = list(pool.map(lambda _: lazy.get(), range(32)))
    assert build.calls == 1
    assert all(pipeline is pipelines[0] for pipeline in pipelines)
    assert pipelines[0].kit is built[0]


def test_reset_closes_an_owned_kit_and_the_next_use_rebuilds(
    built: list[WebKit], closed: list[WebKit]
) -> None:
    """A kit the builder made is closed on reset; the next get builds a new pipeline."""
    build = _Builds(built)
    lazy = LazyPipeline(build)
    first = lazy.get()
    lazy.reset()
    assert closed == [first.kit]
    assert lazy.get() is not first
    assert build.calls == 2


def test_reset_leaves_a_kit_handed_in_open(built: list[WebKit], closed: list[WebKit]) -> None:
    """A kit the builder does not own is its owner's to close (twin: the test above)."""
    lazy = LazyPipeline(_Builds(built, owned=False))
    lazy.get()
    lazy.reset()
    lazy.reset()  # nothing built: nothing to close
    assert closed == []


def test_a_failing_build_propagates_and_is_retried() -> None:
    """A build error reaches the caller; nothing is cached, the next get builds again."""
    calls: list[int] = []

    def build() -> tuple[WebKit, bool]:
        calls.append(1)
        raise ConfigurationError("bad settings")

    lazy = LazyPipeline(build)
    for _ in range(2):
        with pytest.raises(ConfigurationError, match="bad settings"):
            lazy.get()
    assert len(calls) == 2


def test_the_offload_reaches_the_pipeline(built: list[WebKit]) -> None:
    """The pipeline is built with the offload given (async requests on a sync limiter)."""

    async def offload(call: Any) -> Any:
        return call()

    pipeline = LazyPipeline(_Builds(built), offload=offload).get()
    assert pipeline._offload is offload
