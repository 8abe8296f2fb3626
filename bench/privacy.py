"""What keeping signatories safe costs on the 100,000-signature letter (a copy of the SQLite
benchmark database): retention, key rotation, a withdrawal, and the withdrawal form's time
for a known and an unknown address (a difference an observer could time).

Usage: python bench/privacy.py bench/out/bench.sqlite
"""
from __future__ import annotations

import datetime as dt
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from cryptography.fernet import Fernet  # noqa: E402
from dataset import EMAIL_KEY, SLUG, config  # noqa: E402
from sqlalchemy import func, select, update  # noqa: E402

from petition import addresses, create_app, tokens  # noqa: E402
from petition.extensions import db  # noqa: E402
from petition.models import CLOSED, Letter, Signature, utcnow  # noqa: E402
from petition.privacy import key_rotation, retention

KNOWN = "known.signer@example.org"


def _timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _app(path: Path, email_key: str = EMAIL_KEY):
    return create_app(dict(config(path), EMAIL_KEY=email_key, WTF_CSRF_ENABLED=False))


def _form_times(app, email: str, rounds: int = 15) -> float:
    client = app.test_client()
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        client.post("/withdraw", data={"email": email})
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main(source: Path) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "privacy.sqlite"
        shutil.copy(source, path)
        app = _app(path)
        with app.app_context():
            signature = db.session.scalar(select(Signature).where(Signature.status == "confirmed")
                                          .order_by(Signature.id).limit(1))
            signature.email_hash = addresses.email_hash(KNOWN)
            db.session.commit()
            token = tokens.withdraw_token(signature.public_id)
            known = _form_times(app, KNOWN)
            unknown = _form_times(app, "nobody.here@example.org")
            print(f"withdrawal form (median of 15, in-process): known address {known:.1f} ms, "
                  f"unknown {unknown:.1f} ms")
            client = app.test_client()
            # The letter's page in its language (without ?lang= a redirect): the list built
            # once, as a running site has it.
            client.get(f"/letters/{SLUG}?lang=fr")
            seconds = _timed(lambda: client.post(f"/withdraw/{token}"))
            page = _timed(lambda: client.get(f"/letters/{SLUG}?lang=fr"))
            print(f"withdraw one confirmed signature: {seconds * 1000:.0f} ms; the next page "
                  f"view (list rebuilt) {page * 1000:.0f} ms")
            hidden = db.session.scalar(select(func.count()).where(
                Signature.private_encrypted.is_not(None)))
            db.session.execute(update(Letter).values(
                status=CLOSED, closed_at=utcnow() - dt.timedelta(days=200)))
            db.session.commit()
            erased: list = []
            seconds = _timed(lambda: erased.extend(retention.run()))
            print(f"retention run: {erased[0].fingerprints:,} fingerprints erased in "
                  f"{seconds:.2f} s (vacuum/checkpoint included)")
        new_key = Fernet.generate_key().decode()
        rotated = _app(path, new_key)
        with rotated.app_context():
            addresses.forget_hash_keys()
            result: list = []
            seconds = _timed(lambda: result.append(key_rotation.rotate(EMAIL_KEY)))
            print(f"keys rotate: {result[0].total:,} secrets ({hidden:,} hidden names) "
                  f"re-encrypted in {seconds:.2f} s")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "bench" / "out" / "bench.sqlite")
