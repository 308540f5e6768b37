"""SM4-GCM field encryption, HMAC-SM3 blind index, masking and password policy."""

from __future__ import annotations

import pytest

from xinfang.errors import InvalidInput
from xinfang.security.crypto import DecryptionError, KeyRing
from xinfang.security.masking import mask_id_number, mask_phone
from xinfang.security.passwords import check_policy, hash_password, verify_password


def test_it_round_trips_and_never_repeats_a_ciphertext() -> None:
    ring = KeyRing.from_settings("k1", "secret-one")
    a, b = ring.encrypt("350428199001011234"), ring.encrypt("350428199001011234")
    assert a != b and a.startswith("sm4gcm1:k1:")
    assert ring.decrypt(a) == "350428199001011234"


def test_a_tampered_ciphertext_is_refused() -> None:
    ring = KeyRing.from_settings("k1", "secret-one")
    token = ring.encrypt("13800000000")
    fmt, kid, blob = token.split(":")
    flipped = blob[:-6] + ("A" if blob[-6] != "A" else "B") + blob[-5:]
    with pytest.raises(DecryptionError):
        ring.decrypt(f"{fmt}:{kid}:{flipped}")


def test_an_old_key_still_decrypts_after_rotation() -> None:
    old = KeyRing.from_settings("k1", "secret-one")
    token = old.encrypt("13800000000")
    new = KeyRing.from_settings("k2", "secret-two", {"k1": "secret-one"})
    assert new.decrypt(token) == "13800000000"
    assert new.encrypt("x").split(":")[1] == "k2"
    with pytest.raises(DecryptionError):
        KeyRing.from_settings("k2", "secret-two").decrypt(token)


def test_the_blind_index_is_stable_and_keyed() -> None:
    a = KeyRing.from_settings("k1", "secret-one")
    b = KeyRing.from_settings("k1", "secret-two")
    assert a.blind_index("13800000000") == a.blind_index("13800000000")
    assert a.blind_index("13800000000") != a.blind_index("13800000001")
    assert a.blind_index("13800000000") != b.blind_index("13800000000")


def test_masking_keeps_only_what_a_list_needs() -> None:
    assert mask_id_number("35042819900101123X") == "350428********123X"
    assert mask_phone("13912345678") == "139****5678"
    assert "1234567" not in (mask_phone("0598-2345678") or "")


def test_password_hashing_and_policy() -> None:
    h = hash_password("abc-12345")
    assert (
        h.startswith("$argon2id$") and verify_password(h, "abc-12345") and not verify_password(h, "abc-12346")
    )
    with pytest.raises(InvalidInput):
        check_policy("short1")
    with pytest.raises(InvalidInput):
        check_policy("onlyletters")
    check_policy("letters-and-1")
