"""Token verification throughput: TokenService.verify_access against plain ``jwt.decode``.

Both sides get the same token, the same key (as a ready key object, so pyjwt does not
re-parse a PEM per call) and the same checks: signature with a fixed algorithm, required
``exp``/``iat``/``jti``/``sub``, exact ``iss`` and ``aud``, a zero leeway, and the ``type``
claim compared to ``"access"``. backendkit additionally enforces the 8 KiB cap, canonical
base64url segments, the header allowlist, ``kid`` selection and duplicate-member checks.
The claims both return are compared before timing.

    python benchmarks/bench_tokens.py [--quick] [--json out.json]

Rounds alternate between the two sides; the best round of each is reported with the ratio
backendkit / pyjwt (higher is better for backendkit; 1.0 means the same speed).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import jwt

from backendkit.auth import JWTKey, TokenService
from backendkit.testing import FakeClock

ISSUER = "https://auth.example.com"
AUDIENCE = "api.example.com"
ALGORITHMS = ("HS256", "ES256", "EdDSA", "RS256")


def _plain_decoder(key: JWTKey, alg: str) -> Callable[[str], dict[str, Any]]:
    material = key._verifying  # the HMAC secret or the public key object

    def decode(token: str) -> dict[str, Any]:
        claims = jwt.decode(
            token,
            material,
            algorithms=[alg],
            issuer=ISSUER,
            audience=AUDIENCE,
            leeway=0,
            options={"require": ["exp", "iat", "jti", "sub"], "strict_aud": True},
        )
        if claims.get("type") != "access":
            raise jwt.InvalidTokenError("not an access token")
        return claims

    return decode


def _time(fn: Callable[[str], Any], token: str, iterations: int) -> float:
    """Seconds for `iterations` calls."""
    start = time.perf_counter()
    for _ in range(iterations):
        fn(token)
    return time.perf_counter() - start


def bench(alg: str, iterations: int, rounds: int) -> dict[str, Any]:
    key = JWTKey.generate(alg)
    # pyjwt checks exp against the system clock: start the service's clock there.
    service = TokenService(key, issuer=ISSUER, audience=AUDIENCE, clock=FakeClock(time.time()))
    token = service.issue_pair("user-42", claims={"roles": ["admin"], "scope": "read"}).access_token
    plain = _plain_decoder(key, alg)

    ours = service.verify_access(token)
    theirs = plain(token)
    same = (ours.sub, ours.jti, ours.exp, ours["roles"]) == (
        theirs["sub"],
        theirs["jti"],
        theirs["exp"],
        theirs["roles"],
    )
    if not same:
        raise SystemExit(f"{alg}: backendkit and pyjwt returned different claims")

    best = {"backendkit": float("inf"), "pyjwt": float("inf")}
    for _ in range(rounds):
        best["backendkit"] = min(
            best["backendkit"], _time(service.verify_access, token, iterations)
        )
        best["pyjwt"] = min(best["pyjwt"], _time(plain, token, iterations))
    ops = {name: iterations / seconds for name, seconds in best.items()}
    return {
        "algorithm": alg,
        "token_bytes": len(token),
        "backendkit_ops_per_s": round(ops["backendkit"]),
        "pyjwt_ops_per_s": round(ops["pyjwt"]),
        "ratio": round(ops["backendkit"] / ops["pyjwt"], 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations (CI smoke run)")
    parser.add_argument("--json", type=Path, help="write the results to this file")
    args = parser.parse_args(argv)
    rounds = 3 if args.quick else 7
    results = []
    print(f"{'alg':6} {'bytes':>5} {'backendkit/s':>13} {'pyjwt/s':>10} {'ratio':>6}")
    for alg in ALGORITHMS:
        # Asymmetric verification is slower; keep each round at a comparable duration.
        iterations = {"HS256": 20_000, "RS256": 4_000}.get(alg, 2_000)
        if args.quick:
            iterations //= 4
        row = bench(alg, iterations, rounds)
        results.append(row)
        print(
            f"{alg:6} {row['token_bytes']:>5} {row['backendkit_ops_per_s']:>13,} "
            f"{row['pyjwt_ops_per_s']:>10,} {row['ratio']:>6.2f}x"
        )
    if args.json:
        meta = {"python": platform.python_version(), "pyjwt": jwt.__version__}
        args.json.write_text(json.dumps({"meta": meta, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
