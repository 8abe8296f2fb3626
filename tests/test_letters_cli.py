"""`flask letter …` commands."""
from sqlalchemy import select

from petition.extensions import db
from petition.models import Letter


def letter(slug="appeal") -> Letter:
    db.session.expire_all()
    return db.session.scalar(select(Letter).where(Letter.slug == slug))


def test_create_translate_label_close_open(runner, app, tmp_path):
    body = tmp_path / "body.md"
    body.write_text("Nous demandons **sa libération**.", encoding="utf-8")
    result = runner.invoke(args=[
        "letter", "create", "appeal", "--lang", "fr", "--title", "Libérez-le",
        "--text-file", str(body), "--goal", "1000", "--place", "Paris", "--date", "2026-05-21",
        "--moderate",
    ])
    assert result.exit_code == 0, result.output
    created = letter()
    assert created.status == "open" and created.goal == 1000 and created.moderate_organizations
    assert created.texts[0].body.startswith("Nous demandons")
    assert str(created.date) == "2026-05-21"

    assert runner.invoke(args=["letter", "translate", "appeal", "--lang", "en", "--title", "Free him"]).exit_code == 0
    assert letter().text_for("en").title == "Free him"

    result = runner.invoke(args=["letter", "label", "appeal", "--lang", "fr", "es", "Etat espagnol"])
    assert result.exit_code == 0, result.output
    assert letter().labels_for("fr") == {"ES": "Etat espagnol"}

    assert runner.invoke(args=["letter", "close", "appeal"]).exit_code == 0
    assert letter().status == "closed"
    assert runner.invoke(args=["letter", "open", "appeal"]).exit_code == 0
    assert letter().status == "open"


def test_bad_input_gets_clear_messages(runner, app):
    result = runner.invoke(args=["letter", "create", "Bad Slug", "--lang", "fr", "--title", "T"])
    assert result.exit_code != 0 and "slug" in result.output
    runner.invoke(args=["letter", "create", "appeal", "--lang", "fr", "--title", "T"])
    dup = runner.invoke(args=["letter", "create", "appeal", "--lang", "fr", "--title", "T"])
    assert dup.exit_code != 0 and "already exists" in dup.output
    bad_code = runner.invoke(args=["letter", "label", "appeal", "--lang", "fr", "QQ", "X"])
    assert bad_code.exit_code != 0 and "QQ" in bad_code.output
    missing = runner.invoke(args=["letter", "close", "nope"])
    assert missing.exit_code != 0 and "no letter" in missing.output


def test_seed_demo_only_when_empty(runner, app):
    assert "Seeded" in runner.invoke(args=["seed-demo"]).output
    assert "no demo" in runner.invoke(args=["seed-demo"]).output
    assert letter("free-the-mathematician").labels_for("fr")["ES"] == "Etat espagnol"
