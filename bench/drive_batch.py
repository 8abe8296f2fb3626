"""A letter drive's batch of 1,000 letters of 3,000 characters, exported to PDF, ZIP and CSV.

Builds a new SQLite file in bench/out/drive_batch/ (`flask db upgrade` as a command): a drive
(recipient and address in Russian) with 1,000 approved letters whose printed text is 3,000
characters of Russian with Latin words in it (a fifth written in English or French and
translated into Russian), encrypted as writing them stores them; then gathers them into one
batch (batches.create_batch). Each format is then exported in a fresh process twice:
  export  — batches.contents() (reading and decrypting the letters) and batch_files.render(),
            timed inside the process (first call: every lazy load included);
  command — the whole `flask --app wsgi drive batch export BATCH --format … --out …`, app
            start-up included, with its own peak resident memory (VmHWM, peak_of.py).
Targets (issue 20): PDF <= 30 s and <= 500 MB, ZIP <= 5 s.

`python bench/drive_batch.py [--letters 1000 --chars 3000]`; `python bench/drive_batch.py
one DATABASE_URL BATCH FORMAT OUT` is the timed export of one format (used by the above).
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import time
from pathlib import Path

from export_memory import run_peak
from harness import OUT, ROOT, Summary, app_env, flask, machine

sys.path.insert(0, str(ROOT))

SLUG = "bench-drive"
FORMATS = ("pdf", "zip", "csv")
TIME_TARGETS = {"pdf": 30.0, "zip": 5.0}  # seconds; the CSV has none
MEMORY_TARGET_MB = 500
RUSSIAN = ("дорогой", "Азат", "мы", "думаем", "о", "вас", "каждый", "день", "желаем", "сил",
           "терпения", "и", "здоровья", "ваши", "студенты", "скучают", "по", "лекциям",
           "топологии", "сегодня", "в", "Париже", "шёл", "снег", "вспоминали", "задачи",
           "графах", "семинар", "решил", "ещё", "три", "передаёт", "привет", "книги",
           "математика", "весна", "скоро", "обнимаем", "друзья", "из", "Лиона", "письмо")
LATIN = ("Dear", "Azat", "topology", "Lyon", "Paris", "Montréal", "Zürich", "Łódź", "Gödel",
         "Poincaré", "Erdős", "seminar", "graph", "Hilbert", "São", "Paulo", "Kraków")
NAMES = ("Marie Dupont", "Иван Петров", "Anna Müller", "José Álvarez", "Ольга Смирнова",
         "Łukasz Nowak", "Søren Kierkegaard", "Chloé Martin", "Дмитрий Орлов", "Aoife Byrne")
COUNTRIES = ("FR", "DE", "RU", "ES", "PL", "DK", "BE", "IE", "CA", "CH")


def _config(url: str) -> dict:
    env = app_env(url)
    return {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": env["SECRET_KEY"],
            "EMAIL_KEY": env["EMAIL_KEY"], "MAIL_DISPATCH_IN_PROCESS": False,
            "RATELIMIT_ENABLED": False, "EXPORT_DIR": env["EXPORT_DIR"]}


def letter_text(rng: random.Random, chars: int) -> str:
    """`chars` characters of Russian with Latin words, in paragraphs of 2 to 6 lines."""
    paragraphs, length = [], 0
    while length < chars:
        words = [rng.choice(LATIN if rng.random() < 0.15 else RUSSIAN)
                 for _ in range(rng.randint(25, 70))]
        paragraph = " ".join(words)
        paragraph = paragraph[0].upper() + paragraph[1:] + "."
        paragraphs.append(paragraph)
        length += len(paragraph) + 2
    text = "\n\n".join(paragraphs)[:chars].rstrip()
    return text + "." * (chars - len(text))  # exactly `chars`, whatever the cut left


def build(url: str, count: int, chars: int) -> tuple[str, float]:
    """The drive, its approved letters and one batch of them all: (batch id, seconds)."""
    flask(["db", "upgrade"], app_env(url))
    from petition import create_app
    from petition.drive import batches
    from petition.drive.settings import create_drive
    from petition.drive.values import check_letter_text, seal
    from petition.extensions import db
    from petition.models import utcnow
    from petition.models.drive import APPROVED, DriveLetter

    started = time.perf_counter()
    app = create_app(_config(url))
    with app.app_context():
        letter = create_drive(SLUG, lang="ru", title="1000 писем", recipient="Азат Мифтахов",
                              recipient_address="ФКУ СИЗО-1 ГУФСИН России по г. Москве\n"
                                                "ул. Матросская Тишина, д. 18\n107076, Москва",
                              delivery_lang="ru", body_max=chars, actor="bench")
        rng = random.Random(20)
        now = utcnow()
        for number in range(count):
            text = check_letter_text(letter_text(rng, chars), chars)
            translated = number % 5 == 4  # a fifth written in another language
            original = check_letter_text(letter_text(rng, chars), chars) if translated else text
            db.session.add(DriveLetter(
                letter_id=letter.id, status=APPROVED, country=COUNTRIES[number % 10],
                lang="en" if translated else "ru",
                letter_lang=("en", "fr")[number % 2] if translated else "ru", publish="no",
                signature_encrypted=seal(f"{NAMES[number % 10]} {number}"),
                body_encrypted=seal(original), body_chars=len(original),
                translation_encrypted=seal(text) if translated else None,
                translated_by="translator@example.org" if translated else None,
                translated_at=now if translated else None,
                created_at=now, confirmed_at=now, moderated_at=now, moderated_by="bench"))
        db.session.commit()
        batch_id = batches.create_batch(SLUG, actor="bench").public_id
        db.session.remove()
        db.engine.dispose()
    return batch_id, time.perf_counter() - started


def one(url: str, batch_id: str, fmt: str, out: Path) -> dict:
    """Read the batch and render `fmt` once in this process; the timings."""
    from petition import create_app
    from petition.drive import batch_files, batches

    app = create_app(_config(url))
    with app.app_context():
        started = time.perf_counter()
        contents = batches.contents(batches.get_batch(batch_id))
        loaded = time.perf_counter()
        data, _, _ = batch_files.render(contents, fmt)
        done = time.perf_counter()
        pages = sum(batch_files.page_counts(contents)) if fmt == "csv" else None
    out.write_bytes(data)
    return {"load": loaded - started, "render": done - loaded, "export": done - started,
            "bytes": len(data), "letters": len(contents.letters),
            "characters": sum(letter.characters for letter in contents.letters),
            "pages": pages}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--letters", type=int, default=1000)
    parser.add_argument("--chars", type=int, default=3000)
    parser.add_argument("--formats", nargs="+", choices=FORMATS, default=list(FORMATS))
    args = parser.parse_args()
    folder = OUT / "drive_batch"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    url = f"sqlite:///{folder / 'drive.sqlite'}"
    print(f"a letter drive's batch: {args.letters} letters of {args.chars} characters "
          f"(Russian with Latin words; a fifth translated); {machine()}")
    batch_id, seconds = build(url, args.letters, args.chars)
    print(f"  built in {seconds:.1f} s (letters encrypted as writing stores them), batch "
          f"{batch_id}")
    env = app_env(url)
    startup, startup_peak, _, _ = run_peak(["-m", "flask", "--help"], env)
    print(f"  app start-up alone (flask --app wsgi --help): {startup:.2f} s, "
          f"{startup_peak:.0f} MB\n")
    print(f"  {'format':6} {'load':>7} {'render':>7} {'export':>7} {'command':>8} {'peak':>7} "
          f"{'size':>8}  target")
    summary = Summary()
    for fmt in args.formats:
        target = folder / f"batch.{fmt}"
        _, inner_peak, _, output = run_peak([__file__, "one", url, batch_id, fmt, str(target)])
        inner = json.loads(output)
        command = folder / f"command.{fmt}"
        wall, peak, _, _ = run_peak(["-m", "flask", "drive", "batch", "export", batch_id,
                                     "--format", fmt, "--out", str(command)], env)
        assert command.read_bytes() == target.read_bytes(), "two exports differ"
        limit = TIME_TARGETS.get(fmt)
        verdict = "—"
        if limit is not None:
            in_time = inner["export"] <= limit
            verdict = f"{limit:g} s {'ok' if in_time else 'MISSED'}"
            summary.add(f"drive batch {fmt}, {args.letters} letters: export",
                        f"{inner['export']:.2f} s", f"<= {limit:g} s", in_time)
        if fmt == "pdf":
            small = peak <= MEMORY_TARGET_MB
            verdict += f", {MEMORY_TARGET_MB} MB {'ok' if small else 'MISSED'}"
            summary.add(f"drive batch pdf, {args.letters} letters: peak memory (command)",
                        f"{peak:.0f} MB", f"<= {MEMORY_TARGET_MB} MB", small)
        print(f"  {fmt:6} {inner['load']:6.2f}s {inner['render']:6.2f}s {inner['export']:6.2f}s "
              f"{wall:7.2f}s {peak:5.0f}MB {inner['bytes'] / 1e6:6.1f}MB  {verdict}", flush=True)
        if inner["pages"]:
            print(f"         {inner['letters']} letters, {inner['characters']:,} characters, "
                  f"{inner['pages']} A4 pages (the manifest's count); the timed process's own "
                  f"peak {inner_peak:.0f} MB")
    summary.print("a letter drive's batch files")


if __name__ == "__main__":
    if sys.argv[1:2] == ["one"]:
        database, batch, fmt, path = sys.argv[2:6]
        print(json.dumps(one(database, batch, fmt, Path(path))))
    else:
        main()
