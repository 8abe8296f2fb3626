"""Build the benchmark database: one letter, 100,000 confirmed signatures from 150 countries.

Rows go in with one executemany, collation keys computed as signing computes them.
Names mix Latin with accents and Cyrillic; a tenth are organisations; individuals show in
full, by initials or not at all.
"""
from __future__ import annotations

import random
import secrets
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from petition import create_app  # noqa: E402
from petition.core import schema_migrations  # noqa: E402
from petition.countries import country_codes  # noqa: E402
from petition.extensions import db  # noqa: E402
from petition.letters import counting
from petition.models import (  # noqa: E402
    ANONYMOUS,
    CONFIRMED,
    FULL,
    INDIVIDUAL,
    INITIALS,
    ORGANIZATION,
    SOURCE_FORM,
    Letter,
    LetterText,
    Signature,
    derived_columns,
    new_public_id,
    utcnow,
)
from petition.privacy import hidden_names

EMAIL_KEY = "k1t3Q1cJ0m0c9pD8yFh0sZ0m9u1vQ2Jd6lq3x8c1n5E="  # bench only
SLUG = "bench"
LATIN = ["an", "be", "ché", "do", "él", "fa", "gi", "hu", "ja", "ké", "lo", "mü", "na", "ö", "pa",
         "ri", "sa", "ta", "ul", "vé", "wa", "xa", "yo", "zé", "ça", "ñe", "å", "ø"]
CYRILLIC = ["ан", "бо", "ве", "га", "дё", "же", "зи", "ка", "ли", "мо", "на", "ор", "пу", "ра",
            "са", "то", "уш", "фе", "хо", "цы", "ча", "ше", "щу", "эл", "юр", "як"]
ORG_WORDS = ["Union", "Comité", "Campagne", "Association", "Network", "Союз", "Solidarité", "Forum"]


def config(path: Path) -> dict:
    return {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
        "SECRET_KEY": "bench",
        "EMAIL_KEY": EMAIL_KEY,
        "MAIL_DISPATCH_IN_PROCESS": False,
        "RATELIMIT_ENABLED": False,
        "EXPORT_DIR": str(path.parent / "exports"),
    }


def _word(rng: random.Random, syllables: list[str]) -> str:
    return "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))).capitalize()


def _rows(letter_id: int, count: int, rng: random.Random) -> list[dict]:
    codes = sorted(country_codes())[:150]
    weights = [1 / (rank + 1) for rank in range(len(codes))]  # a few big countries, a long tail
    cyrillic = {"RU", "UA", "BY", "KZ", "BG", "RS"}
    now = utcnow()
    rows = []
    for number in range(count):
        country = rng.choices(codes, weights)[0]
        syllables = CYRILLIC if country in cyrillic or number % 7 == 0 else LATIN
        organization = number % 10 == 0
        if organization:
            name = f"{rng.choice(ORG_WORDS)} {_word(rng, syllables)} {number}"
            signer_type, display, affiliation = ORGANIZATION, FULL, None
        else:
            name = f"{_word(rng, syllables)} {_word(rng, syllables)}"
            signer_type = INDIVIDUAL
            display = rng.choices((FULL, INITIALS, ANONYMOUS), (8, 1, 1))[0]
            affiliation = _word(rng, LATIN) + " University" if number % 3 == 0 else None
        # Stored as signing stores it: a hidden real name encrypted, the list's line kept.
        stored = hidden_names.seal(signer_type, name, affiliation, display)
        rows.append({
            "letter_id": letter_id, "signer_type": signer_type, **stored,
            "country": country, "display": display, "lang": "fr",
            "status": CONFIRMED, "moderation": "none", "source": SOURCE_FORM,
            "email_hash": secrets.token_hex(32), "token_nonce": secrets.token_hex(16),
            "created_at": now, "updated_at": now, "confirmed_at": now,
            "public_id": new_public_id(),
            **derived_columns(signer_type, stored["name"], display),
        })
    return rows


def migrate(path: Path) -> None:
    """Bring a database built by an earlier version up to the current schema (kept between
    runs: building it again takes longer than any migration)."""
    app = create_app(config(path))
    schema_migrations.bind(app)
    with app.app_context():
        upgrade()
        db.engine.dispose()


def build(path: Path, count: int = 100_000, seed: int = 2026, url: str | None = None) -> float:
    """Create the database at `path` (or at `url`, an empty PostgreSQL database); return the
    seconds spent inserting."""
    path.parent.mkdir(parents=True, exist_ok=True)
    settings = config(path)
    if url:
        settings["SQLALCHEMY_DATABASE_URI"] = url
    else:
        for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            stale.unlink(missing_ok=True)
    app = create_app(settings)
    schema_migrations.bind(app)
    with app.app_context():
        upgrade()
        letter = Letter(slug=SLUG, status="open", default_lang="fr", place="Paris")
        letter.texts.append(LetterText(lang="fr", title="Libérez-les",
                                       body="Nous demandons.\n\nMaintenant."))
        letter.texts.append(LetterText(lang="ru", title="Свободу им", body="Мы требуем."))
        db.session.add(letter)
        db.session.commit()
        rows = _rows(letter.id, count, random.Random(seed))
        started = time.perf_counter()
        db.session.execute(insert(Signature), rows)
        db.session.commit()
        seconds = time.perf_counter() - started
        counting.rebuild(letter)  # rows inserted around the use cases: count them once
        db.session.remove()
        db.engine.dispose()
    return seconds


if __name__ == "__main__":
    # A file path (SQLite), or the URL of an empty PostgreSQL database.
    target = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "bench" / "out" / "bench.sqlite")
    if target.startswith("postgresql"):
        seconds = build(ROOT / "bench" / "out" / "unused", url=target)
        print(f"inserted in {seconds:.1f} s → {target}")
    else:
        print(f"inserted in {build(Path(target)):.1f} s → {target}")
