"""Token and password metrics, told by the ``TokenService`` and ``PasswordHasher`` themselves."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

__all__ = ["PASSWORD_BUCKETS", "PasswordTimings", "TokenEvents"]

#: Password-hashing buckets (seconds): bcrypt at cost 10-14 takes 50 ms to about 1.5 s.
PASSWORD_BUCKETS: tuple[float, ...] = (0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0)


class TokenEvents:
    """The token counters, and the ``TokenService.on_event`` that feeds them.

    - ``backendkit_tokens_issued_total{kind}``: ``access`` (stand-alone) or ``session``
      (a login's pair);
    - ``backendkit_token_refreshes_total{outcome}``: ``rotated``, or ``grace`` (a retry
      within the grace period got the same pair);
    - ``backendkit_token_reuse_detected_total``: a retired refresh token came back (the
      session is revoked);
    - ``backendkit_token_rejections_total{reason}``: verification failures by reason
      (``expired``, ``bad_signature``, ``revoked``...; a fixed set, never the token).
    """

    __slots__ = ("_children", "issued", "refreshes", "rejections", "reuse")

    def __init__(self, registry: CollectorRegistry) -> None:
        self.issued = Counter(
            "backendkit_tokens_issued", "Tokens issued, by kind.", ("kind",), registry=registry
        )
        self.refreshes = Counter(
            "backendkit_token_refreshes",
            "Refresh-token rotations, by outcome.",
            ("outcome",),
            registry=registry,
        )
        self.reuse = Counter(
            "backendkit_token_reuse_detected",
            "Retired refresh tokens presented again (the session was revoked).",
            registry=registry,
        )
        self.rejections = Counter(
            "backendkit_token_rejections",
            "Tokens that failed verification, by reason.",
            ("reason",),
            registry=registry,
        )
        self._children: dict[tuple[str, str], Counter] = {}

    def __call__(self, event: str, detail: str) -> None:
        """Count one event (the token service's ``on_event``)."""
        if event == "reuse_detected":
            self.reuse.inc()
            return
        key = (event, detail)
        child = self._children.get(key)
        if child is None:
            parent = {"issued": self.issued, "refreshed": self.refreshes}.get(event)
            child = self._children.setdefault(key, (parent or self.rejections).labels(detail))
        child.inc()


class PasswordTimings:
    """``backendkit_password_duration_seconds{operation}`` (``hash`` or ``verify``, a dummy
    verification for an unknown user included), fed by ``PasswordHasher.on_timing``."""

    __slots__ = ("_children", "histogram")

    def __init__(self, registry: CollectorRegistry) -> None:
        self.histogram = Histogram(
            "backendkit_password_duration_seconds",
            "Time spent hashing or verifying a password (bcrypt).",
            ("operation",),
            registry=registry,
            buckets=PASSWORD_BUCKETS,
        )
        self._children = {name: self.histogram.labels(name) for name in ("hash", "verify")}

    def __call__(self, operation: str, seconds: float) -> None:
        """Observe one timing (the hasher's ``on_timing``)."""
        self._children[operation].observe(seconds)
