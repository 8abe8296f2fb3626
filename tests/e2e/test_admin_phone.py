"""The back office on a phone: every back-office page at 390 px wide in Chromium, in English,
French and Russian, with nothing wider than the screen (tables scroll in their own box), the
texts one language at a time, and the preview of a draft.

Every GET page of the admin blueprint is visited (a new page is visited too, or the test names
it): screenshots go to test-artifacts/screenshots/admin-390-<lang>-<page>.png for a person to
look at ($SCREENSHOTS moves them).
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pyotp
import pytest

from petition import tokens
from petition.drive import batches, review, writing
from petition.extensions import db
from petition.letters import operations as letters
from petition.models import DRAFT, INDIVIDUAL, MOD_HELD, LetterText
from petition.news import updates as news_updates
from tests.admin_helpers import PASSWORD, make_account
from tests.drive_helpers import LETTER_EN, LETTER_RU, details, make_drive
from tests.factories import make_letter, make_signature

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]

WIDTH = 390
REPO = Path(__file__).resolve().parents[2]
SLUG, DRIVE, DRAFT_SLUG = "appeal", "letters-to-azat", "draft-appeal"
ADMIN = "root@example.org"
# Files, not pages; and the two pages of the login, seen before it.
NOT_PAGES = {"admin.export_letter", "admin.audit_csv", "admin.drive_batch_download",
             "admin.login", "admin.totp"}

# Every element that reaches past the right edge of the screen, outside a box that scrolls.
OVERFLOWING = """(width) => {
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    if (box.right <= width + 0.5 || box.width === 0) continue;
    let inside = false;
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      const style = getComputedStyle(up);
      if (['auto', 'scroll', 'hidden'].includes(style.overflowX)) { inside = true; break; }
    }
    const name = typeof el.className === 'string' && el.className ? '.' + el.className : '';
    if (!inside) out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + name);
  }
  return out.slice(0, 10);
}"""


def _shots() -> Path:
    folder = Path(os.environ.get("SCREENSHOTS") or REPO / "test-artifacts" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _written(**overrides):
    """A drive letter written and confirmed (its link made here: the live mail worker may
    have sent the confirmation mail already)."""
    row = writing.write(DRIVE, details(**overrides))
    assert row is not None
    return writing.confirm(tokens.drive_confirm_token(row.public_id, row.token_nonce))


def _campaign(app) -> dict[str, str]:
    """An open letter with signatures of every kind, a draft, a drive with letters written,
    approved, translated and batched; the values of each page's URL."""
    with app.app_context():
        letter = make_letter(SLUG, title="Libérez le mathématicien Azat Miftakhov, "
                             "emprisonné depuis 2019", goal=10_000, place="Paris")
        letter.texts.append(LetterText(lang="en", title="Free the mathematician",
                                       body="We ask for his **release**."))
        db.session.commit()
        letters.set_label(SLUG, lang="fr", code="ES", label="Etat espagnol", actor="test")
        signature = make_signature(letter, name="Association internationale des "
                                   "mathématiciennes et mathématiciens solidaires")
        make_signature(letter, name="Ирина Владимировна Константинопольская",
                       signer_type=INDIVIDUAL, country="RU", email="irina@example.org")
        make_signature(letter, name="Syndicat national de l’enseignement supérieur",
                       moderation=MOD_HELD)
        make_letter(DRAFT_SLUG, status=DRAFT, body="Un brouillon **pas encore** public.")
        make_drive()
        russian = _written(letter_lang="ru", body=LETTER_RU, email="ivan@example.org")
        english = _written(letter_lang="en", body=LETTER_EN, email="marie@example.org")
        review.approve(russian.public_id, actor="test")
        batch = batches.create_batch(DRIVE, actor="test")
        _, secret = make_account(ADMIN, "admin", totp=True)
        news = news_updates.create_update(SLUG, {
            "fr": news_updates.Text("La réponse du ministère", "Il a **répondu**."),
            "en": news_updates.Text("The ministry's answer", "It has **answered**.")},
            actor="test")
        values = {"signature": signature.public_id, "letter": english.public_id,
                  "batch": batch.public_id, "totp": secret, "news": news.public_id}
        db.session.remove()
    return values


def _pages(app, ids: dict[str, str]) -> list[tuple[str, str]]:
    """(name, path) of every GET page of the back office."""
    pages = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
        if not rule.endpoint.startswith("admin.") or "GET" not in (rule.methods or ()):
            continue
        if rule.endpoint in NOT_PAGES:
            continue
        drive = rule.endpoint.startswith("admin.drive_")
        news = rule.endpoint.startswith("admin.news_")
        values = {"slug": DRIVE if drive else SLUG, "batch_id": ids["batch"],
                  "public_id": ids["letter"] if drive else ids["news"] if news
                  else ids["signature"]}
        missing = set(rule.arguments) - set(values)
        assert not missing, f"{rule.endpoint}: say which {missing} to show at {WIDTH} px"
        path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m, known=values: known[m[1]], rule.rule)
        pages.append((rule.endpoint.removeprefix("admin."), path))
    return pages


def _log_in(page, base: str, secret: str) -> None:
    page.fill("#email", ADMIN)
    page.fill("#password", PASSWORD)
    page.fill("#totp", pyotp.TOTP(secret).now())
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/admin/")


def _check(page, name: str, lang: str) -> None:
    page.wait_for_load_state()
    page.screenshot(path=str(_shots() / f"admin-{WIDTH}-{lang}-{name}.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, (name, lang, width, page.evaluate(OVERFLOWING, WIDTH))
    assert page.evaluate(OVERFLOWING, WIDTH) == [], (name, lang)


@pytest.mark.parametrize("lang", ["en", "fr", "ru"])
def test_every_back_office_page_fits_a_390_px_phone(live_app, browser, lang):
    ids = _campaign(live_app)
    base = live_app.config["BASE_URL"]
    context = browser.new_context(viewport={"width": WIDTH, "height": 844},
                                  locale={"en": "en-GB", "fr": "fr-FR", "ru": "ru-RU"}[lang])
    page = context.new_page()
    page.goto(f"{base}/admin/login?lang={lang}")
    _check(page, "login", lang)
    _log_in(page, base, ids["totp"])

    visited = []
    for name, path in _pages(live_app, ids):
        response = page.goto(f"{base}{path}")
        assert response is not None and response.status == 200, (name, path)
        _check(page, name, lang)
        visited.append(name)
    assert {"letters", "letter", "edit_letter", "signatures", "drive_queue",
            "letter_preview"} <= set(visited)

    # A search with results: the table of signatures scrolls in its own box.
    page.goto(f"{base}/admin/letters/{SLUG}/signatures?q=a")
    _check(page, "signatures-search", lang)
    context.close()


def test_the_texts_show_one_language_at_a_time_and_preview_on_a_phone(live_app, browser):
    ids = _campaign(live_app)
    base = live_app.config["BASE_URL"]
    context = browser.new_context(viewport={"width": WIDTH, "height": 844}, locale="en-GB")
    page = context.new_page()
    page.goto(f"{base}/admin/login")
    _log_in(page, base, ids["totp"])

    page.goto(f"{base}/admin/letters/{SLUG}/edit#texts")
    # One column at a time: the letter's own language first, the switch to the others.
    assert page.locator("#text-fr").is_visible()
    assert not page.locator("#text-en").is_visible()
    assert not page.locator("#text-new").is_visible()
    page.click(".text-switch a[href='#text-en']")
    assert page.locator("#text-en").is_visible() and not page.locator("#text-fr").is_visible()
    box = page.locator("#body-en").bounding_box()
    assert box is not None and box["width"] > WIDTH * 0.75  # not a 70 px column
    _check(page, "edit_letter-texts-en", "en")

    # Preview: the page again, the typed Markdown rendered under its source, nothing saved.
    page.fill("#body-en", "We ask for his **release** now.\n\n- first\n- second")
    page.click("button[name=preview]")
    page.wait_for_load_state()
    assert "nothing was saved" in page.inner_text("main")
    page.click(".text-switch a[href='#text-en']")
    preview = page.locator("#text-en .text-preview")
    assert preview.locator("strong").inner_text() == "release"
    assert preview.locator("li").count() == 2
    _check(page, "edit_letter-markdown-preview", "en")

    # The draft as the public will see it: its text, the form disabled under the banner.
    for lang in ("en", "ru"):
        page.goto(f"{base}/admin/letters/{DRAFT_SLUG}/preview?lang={lang}")
        assert page.locator("article.letter strong").inner_text() == "pas encore"
        assert page.locator("fieldset.preview-sign input[name=email]").is_disabled()
        assert page.locator("fieldset.preview-sign button[type=submit]").is_disabled()
        _check(page, f"draft-preview-{lang}", lang)
    context.close()
