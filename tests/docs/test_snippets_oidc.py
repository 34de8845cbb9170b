"""The OIDC guide's sample runs, and its user_loader links provider users as the text says."""

from __future__ import annotations

import runpy
import warnings
from pathlib import Path
from typing import Any

from backendkit.web import LinkedUser, Principal

SNIPPETS = Path(__file__).resolve().parents[2] / "docs" / "snippets"


def _run(name: str = "auth_oidc_kit") -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the development signing key's warning
        return runpy.run_path(str(SNIPPETS / f"{name}.py"))


def test_the_testing_snippet_runs() -> None:
    """The pinned-keys sample verifies its token (its asserts are the checks)."""
    assert _run("auth_oidc_testing")["claims"].sub == "1"


def test_the_kit_accepts_the_provider() -> None:
    """The kit built by the sample routes the provider's issuer to its verifier."""
    module = _run()
    kit = module["kit"]
    assert [p.issuer for p in kit.providers] == ["https://login.example.com/realms/main"]
    assert kit.providers[0].audiences == {"https://api.example.com"}


def test_the_loader_links_by_issuer_and_subject() -> None:
    """A provider's sub "1" becomes a new local user, never local user 1; the same
    (issuer, sub) is linked to the same user next time; the app's own user 1 is user 1."""
    module = _run()
    load = module["load_user"]
    issuer = "https://login.example.com/realms/main"
    provider_one = Principal(f"{issuer}#1", issuer=issuer, method="provider", subject="1")
    linked = load(provider_one)
    assert isinstance(linked, LinkedUser)
    assert linked.user_id != "1"
    assert linked.record == {"id": linked.user_id, "role": "user"}
    assert load(provider_one).user_id == linked.user_id
    other_issuer = Principal("x#1", issuer="https://other.example", method="provider", subject="1")
    assert load(other_issuer).user_id not in {"1", linked.user_id}
    assert load(Principal("1")) == {"id": "1", "role": "admin"}
    assert provider_one.with_user(linked).user_id == linked.user_id
