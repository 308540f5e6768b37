"""Rotating the personal-data key: re-encrypt every field under the new key and recompute the blind indexes.

Run with the new key as XINFANG_DATA_KEY (and its id as XINFANG_DATA_KEY_ID) and the old one still listed in
XINFANG_OLD_DATA_KEYS; afterwards the old key can be removed. One transaction: a failure leaves everything as it was.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinfang.cases.models import Petition, Petitioner
from xinfang.security import audit
from xinfang.security.actors import Actor
from xinfang.security.crypto import KeyRing
from xinfang.security.models import TotpCredential


def rotate(session: Session, *, keyring: KeyRing, actor: Actor, now: datetime) -> dict[str, int]:
    counts = {"petitioners": 0, "petitions": 0, "totp_secrets": 0}
    for person in session.execute(select(Petitioner)).scalars():
        changed = False
        if person.id_number_enc and keyring.key_id_of(person.id_number_enc) != keyring.current_id:
            plain = keyring.decrypt(person.id_number_enc)
            person.id_number_enc, person.id_number_bidx = keyring.encrypt(plain), keyring.blind_index(plain)
            changed = True
        if person.phone_enc and keyring.key_id_of(person.phone_enc) != keyring.current_id:
            plain = keyring.decrypt(person.phone_enc)
            person.phone_enc, person.phone_bidx = keyring.encrypt(plain), keyring.blind_index(plain)
            changed = True
        counts["petitioners"] += changed
    for petition in session.execute(
        select(Petition).where(Petition.original_text_enc.is_not(None))
    ).scalars():
        token = petition.original_text_enc or ""
        if keyring.key_id_of(token) != keyring.current_id:
            petition.original_text_enc = keyring.encrypt(
                json.dumps(json.loads(keyring.decrypt(token)), ensure_ascii=False)
            )
            counts["petitions"] += 1
    for cred in session.execute(
        select(TotpCredential)
    ).scalars():  # second-factor secrets (org.second_factor)
        if keyring.key_id_of(cred.secret_enc) != keyring.current_id:
            cred.secret_enc = keyring.encrypt(keyring.decrypt(cred.secret_enc))
            counts["totp_secrets"] += 1
    audit.record(
        session, actor=actor, action="keys.rotate", at=now, details={"to": keyring.current_id, **counts}
    )
    return counts
