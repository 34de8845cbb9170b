"""Lock tokens: unique in a process, and never shared by a forked child with its parent."""

from __future__ import annotations

import os
import warnings

import pytest

from backendkit.cache._ops import lock_token, new_token


def test_tokens_are_unique_within_a_process() -> None:
    """A counter under a random prefix: 10 000 tokens, 10 000 values."""
    assert len({lock_token() for _ in range(10_000)}) == 10_000
    assert new_token() != new_token()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_draws_its_own_prefix() -> None:
    """After fork the child's tokens do not continue the parent's sequence."""
    parent = lock_token()
    read, write = os.pipe()
    with warnings.catch_warnings():
        # 3.12+ warns about fork in a threaded process; the child only writes and exits.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        os.write(write, lock_token())
        os._exit(0)
    os.close(write)
    child = os.read(read, 100)
    os.close(read)
    os.waitpid(pid, 0)
    assert child.split(b".")[0] != parent.split(b".")[0]
