"""JWTKey and KeyRing: each key bound to one algorithm family, kids, JWKS export."""

from __future__ import annotations

import json

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from tests.unit.auth.conftest import SECRET

from backendkit.auth import SUPPORTED_ALGORITHMS, JWTKey, KeyRing
from backendkit.errors import ConfigurationError


def test_supported_algorithms_exclude_none() -> None:
    """The allowlist of key algorithms never contains `none`."""
    assert "none" not in SUPPORTED_ALGORITHMS
    assert set(SUPPORTED_ALGORITHMS) == {
        "HS256", "HS384", "HS512", "RS256", "PS256", "ES256", "EdDSA"
    }  # fmt: skip


@pytest.mark.parametrize("alg", SUPPORTED_ALGORITHMS)
def test_generate_makes_a_signing_key_of_that_algorithm(alg: str) -> None:
    """generate() gives a key bound to the requested algorithm that can sign."""
    key = JWTKey.generate(alg)
    assert key.algorithm == alg
    assert key.can_sign
    assert key.is_symmetric is alg.startswith("HS")


def test_hmac_secret_must_be_long_enough() -> None:
    """HS256 needs 32 bytes, HS384 48, HS512 64 (RFC 7518 §3.2); the valid twin passes."""
    with pytest.raises(ConfigurationError, match="at least 32 bytes"):
        JWTKey.hmac(b"x" * 31)
    with pytest.raises(ConfigurationError, match="at least 48 bytes"):
        JWTKey.hmac(b"x" * 47, algorithm="HS384")
    with pytest.raises(ConfigurationError, match="at least 64 bytes"):
        JWTKey.hmac(b"x" * 63, algorithm="HS512")
    assert JWTKey.hmac("x" * 32).algorithm == "HS256"
    assert JWTKey.hmac(b"x" * 64, algorithm="HS512").algorithm == "HS512"


def test_hmac_refuses_a_public_key_as_secret(rsa_key: JWTKey) -> None:
    """A PEM or JWK document can never become an HMAC secret (algorithm confusion)."""
    with pytest.raises(ConfigurationError, match="looks like a public key"):
        JWTKey.hmac(rsa_key.public_pem())
    jwk_text = json.dumps(rsa_key.public_jwk())
    with pytest.raises(ConfigurationError, match="looks like a public key"):
        JWTKey.hmac(jwk_text)


def test_hmac_refuses_non_hmac_algorithms() -> None:
    """JWTKey.hmac only builds HS* keys."""
    with pytest.raises(ConfigurationError, match="not an HMAC algorithm"):
        JWTKey.hmac(SECRET, algorithm="RS256")


def test_hmac_kid_is_a_fingerprint_not_the_secret() -> None:
    """The default kid is stable for a secret, differs between secrets, and hides it."""
    a1, a2, b = JWTKey.hmac(SECRET), JWTKey.hmac(SECRET), JWTKey.hmac(SECRET + b"!")
    assert a1.kid == a2.kid != b.kid
    assert SECRET.decode() not in a1.kid


@pytest.mark.parametrize(
    ("alg", "other"), [("RS256", "ES256"), ("ES256", "RS256"), ("EdDSA", "RS256")]
)
def test_pem_must_match_the_algorithm_family(
    alg: str, other: str, keys_by_alg: dict[str, JWTKey]
) -> None:
    """A key of another family is refused; the same PEM with its own algorithm works."""
    pem = keys_by_alg[other].private_pem()
    with pytest.raises(ConfigurationError, match=f"does not belong to the {alg} family"):
        JWTKey.from_pem(pem, algorithm=alg)
    assert JWTKey.from_pem(pem, algorithm=other).algorithm == other


def test_pem_rejects_hmac_algorithms_and_garbage(rsa_key: JWTKey) -> None:
    """from_pem is for asymmetric keys and readable PEM only."""
    with pytest.raises(ConfigurationError, match=r"use JWTKey\.hmac"):
        JWTKey.from_pem(rsa_key.private_pem(), algorithm="HS256")
    with pytest.raises(ConfigurationError, match="could not read"):
        JWTKey.from_pem("-----BEGIN NOTHING-----", algorithm="RS256")
    with pytest.raises(ConfigurationError, match="unsupported JWT algorithm"):
        JWTKey.from_pem(rsa_key.private_pem(), algorithm="RS512")


def test_short_rsa_keys_are_refused() -> None:
    """RSA keys under 2048 bits are refused at construction."""
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(ConfigurationError, match="2048"):
        JWTKey.from_key(small, algorithm="RS256")


def test_es256_requires_p256() -> None:
    """An EC key on another curve does not belong to ES256."""
    p384 = ec.generate_private_key(ec.SECP384R1())
    with pytest.raises(ConfigurationError, match="ES256 family"):
        JWTKey.from_key(p384, algorithm="ES256")


def test_from_key_refuses_hmac() -> None:
    """from_key builds asymmetric keys only."""
    with pytest.raises(ConfigurationError, match=r"use JWTKey\.hmac"):
        JWTKey.from_key(b"x" * 32, algorithm="HS256")


def test_public_pem_verifies_but_cannot_sign(rsa_key: JWTKey) -> None:
    """A key built from public material verifies only; its kid equals the private one's."""
    public = JWTKey.from_pem(rsa_key.public_pem(), algorithm="RS256")
    assert not public.can_sign
    assert public.kid == JWTKey.from_pem(rsa_key.private_pem(), algorithm="RS256").kid
    with pytest.raises(ConfigurationError, match="only an asymmetric private key"):
        public.private_pem()


def test_encrypted_pem_round_trip(rsa_key: JWTKey) -> None:
    """A private key exported with a password loads back with it."""
    pem = rsa_key.private_pem(password=b"pw")
    assert b"ENCRYPTED" in pem
    key = JWTKey.from_pem(pem, algorithm="RS256", password=b"pw", kid="again")
    assert key.can_sign
    assert key.kid == "again"


def test_hmac_key_has_no_public_half() -> None:
    """HMAC keys are never published and have no PEM."""
    key = JWTKey.hmac(SECRET)
    assert key.public_jwk() is None
    with pytest.raises(ConfigurationError):
        key.public_pem()
    with pytest.raises(ConfigurationError):
        key.private_pem()


@pytest.mark.parametrize(
    "kid", ["../../etc/passwd", "a'; DROP TABLE keys;--", "", "a b", "k" * 129]
)
def test_malformed_kid_is_refused(kid: str) -> None:
    """A key id with path, quote, space or SQL characters (or empty, or too long) is refused."""
    with pytest.raises(ConfigurationError, match="key id"):
        JWTKey.hmac(SECRET, kid=kid)


def test_well_formed_kid_is_accepted() -> None:
    """The valid twin: URL-safe kids up to 128 characters."""
    assert JWTKey.hmac(SECRET, kid="2024-01_rsa.v2").kid == "2024-01_rsa.v2"
    assert JWTKey.hmac(SECRET, kid="k" * 128).kid == "k" * 128


def test_repr_never_shows_key_material() -> None:
    """repr names the kid and algorithm only."""
    text = repr(JWTKey.hmac(SECRET, kid="k1"))
    assert text == "JWTKey(kid='k1', algorithm='HS256', can_sign=True)"


def test_keys_come_from_the_class_methods_and_are_immutable() -> None:
    """JWTKey() cannot be called directly, and a built key cannot be changed."""
    with pytest.raises(TypeError, match=r"JWTKey\.hmac"):
        JWTKey()
    key = JWTKey.hmac(SECRET, kid="k1")
    with pytest.raises(AttributeError, match="immutable"):
        key.algorithm = "RS256"


@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES256", "EdDSA"])
def test_jwk_round_trip(alg: str, keys_by_alg: dict[str, JWTKey]) -> None:
    """A public JWK loads back as a verification key with the same kid and algorithm."""
    jwk = keys_by_alg[alg].public_jwk()
    assert jwk is not None
    assert (jwk["kid"], jwk["alg"], jwk["use"]) == (keys_by_alg[alg].kid, alg, "sig")
    assert "d" not in jwk  # never private material
    loaded = JWTKey.from_jwk(jwk)
    assert (loaded.kid, loaded.algorithm, loaded.can_sign) == (jwk["kid"], alg, False)
    assert JWTKey.from_jwk(json.dumps(jwk)).kid == jwk["kid"]


def test_jwk_needs_an_algorithm(keys_by_alg: dict[str, JWTKey]) -> None:
    """Without `alg` (in the JWK or as argument) a JWK is refused; with algorithm= it loads."""
    jwk = dict(keys_by_alg["ES256"].public_jwk() or {})
    del jwk["alg"]
    with pytest.raises(ConfigurationError, match="needs an algorithm"):
        JWTKey.from_jwk(jwk)
    assert JWTKey.from_jwk(jwk, algorithm="ES256").algorithm == "ES256"
    with pytest.raises(ConfigurationError, match="disagrees"):
        JWTKey.from_jwk({**jwk, "alg": "ES256"}, algorithm="EdDSA")


def test_jwk_of_the_wrong_family_is_refused(keys_by_alg: dict[str, JWTKey]) -> None:
    """An EC JWK claiming RS256 is refused; so are non-objects and bad kids."""
    jwk = dict(keys_by_alg["ES256"].public_jwk() or {})
    with pytest.raises(ConfigurationError, match="could not read"):
        JWTKey.from_jwk({**jwk, "alg": "RS256"})
    with pytest.raises(ConfigurationError, match="JSON object"):
        JWTKey.from_jwk("[1, 2]")
    with pytest.raises(ConfigurationError, match="'kid' must be a string"):
        JWTKey.from_jwk({**jwk, "kid": 7})


def test_oct_jwk_becomes_an_hmac_key() -> None:
    """A symmetric (kty=oct) JWK with alg HS256 is loaded through the HMAC rules."""
    jwk = jwt.algorithms.HMACAlgorithm.to_jwk(SECRET, as_dict=True)
    key = JWTKey.from_jwk({**jwk, "alg": "HS256", "kid": "oct-1"})
    assert (key.kid, key.algorithm, key.can_sign) == ("oct-1", "HS256", True)


def test_ring_selects_by_kid_and_signs_with_the_first(keys_by_alg: dict[str, JWTKey]) -> None:
    """The first key signs; every key is found by its kid; unknown kids find nothing."""
    ring = KeyRing([keys_by_alg["ES256"], keys_by_alg["RS256"], keys_by_alg["HS256"]])
    assert ring.signing_key is keys_by_alg["ES256"]
    assert ring.get("rsa-1") is keys_by_alg["RS256"]
    assert ring.get("nope") is None
    assert ring.algorithms == {"ES256", "RS256", "HS256"}
    assert len(ring.keys) == 3


def test_ring_active_key_can_be_chosen(keys_by_alg: dict[str, JWTKey]) -> None:
    """active= picks the signing key by kid."""
    ring = KeyRing([keys_by_alg["ES256"], keys_by_alg["RS256"]], active="rsa-1")
    assert ring.signing_key.kid == "rsa-1"


def test_ring_errors(keys_by_alg: dict[str, JWTKey], rsa_key: JWTKey) -> None:
    """Empty rings, duplicate kids, unknown or verify-only active keys are refused."""
    with pytest.raises(ConfigurationError, match="at least one key"):
        KeyRing([])
    with pytest.raises(ConfigurationError, match="duplicate key id"):
        KeyRing([keys_by_alg["HS256"], JWTKey.hmac(SECRET, kid="hs256")])
    with pytest.raises(ConfigurationError, match="no key with id"):
        KeyRing([keys_by_alg["HS256"]], active="missing")
    public = JWTKey.from_pem(rsa_key.public_pem(), algorithm="RS256")
    with pytest.raises(ConfigurationError, match="private material"):
        KeyRing([public])
    with pytest.raises(ConfigurationError, match="JWTKey objects"):
        KeyRing(["not a key"])  # type: ignore[list-item]


def test_ring_of_accepts_a_key_a_list_or_a_ring(keys_by_alg: dict[str, JWTKey]) -> None:
    """KeyRing.of normalizes what TokenService accepts."""
    ring = KeyRing([keys_by_alg["HS256"]])
    assert KeyRing.of(ring) is ring
    assert KeyRing.of(keys_by_alg["HS256"]).signing_key is keys_by_alg["HS256"]
    assert KeyRing.of([keys_by_alg["ES256"]]).signing_key is keys_by_alg["ES256"]


def test_jwks_publishes_public_keys_only(keys_by_alg: dict[str, JWTKey]) -> None:
    """JWKS lists the asymmetric public keys and never an HMAC secret or private member."""
    ring = KeyRing(list(keys_by_alg.values()))
    document = ring.jwks()
    kids = [k["kid"] for k in document["keys"]]
    assert kids == ["rsa-1", "ps-1", "es-1", "ed-1"]
    private_members = {"d", "p", "q", "dp", "dq", "qi", "k"}
    assert all(private_members.isdisjoint(k) for k in document["keys"])
    # Every published key loads as a pyjwt key set.
    assert len(jwt.PyJWKSet.from_dict(document).keys) == 4
