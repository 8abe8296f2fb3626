"""The back office's acceptance scenario, in Chromium, against a live server and SMTP.

An organiser logs in with TOTP, creates a letter in French and English, opens it, watches
signatures arrive, approves two organisations and rejects one, fixes a country, imports a
CSV after its dry run, downloads the press list as docx and pdf, and finds every step in the
audit log. A press officer downloads the list and is refused every edit.

Screenshots go to $SCREENSHOTS when set (the closing note of a change looks at them).
"""
from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path

import pyotp
import pytest

from petition.accounts import operations as accounts
from petition.extensions import db
from tests.admin_helpers import PASSWORD, make_account
from tests.e2e.conftest import confirmation_link, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]

SLUG = "appel-mathematicien"


def _shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("SCREENSHOTS") or tmp_path / "shots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _log_in(page, base: str, email: str, secret: str) -> None:
    page.goto(f"{base}/admin/")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.fill("#totp", pyotp.TOTP(secret).now())
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/admin/")


def _sign(browser, base: str, smtp, name: str, country: str, email: str) -> None:
    """A signatory signs on the public page in French and confirms from the mail."""
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    before = len(smtp.received)
    page.goto(f"{base}/letters/{SLUG}")
    page.check("input[name=signer_type][value=organization]")
    page.fill("input[name=name]", name)
    page.select_option("select[name=country]", country)
    page.fill("input[name=email]", email)
    page.check("input[name=consent]")
    page.click("form[action$='/sign'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/check-your-mail$"))
    mail = wait_for(lambda: len(smtp.received) > before and smtp.received[-1])
    assert mail.rcpt_tos == [email]
    page.goto(confirmation_link(mail, base))
    page.click("form[action*='/confirm/'] button[type=submit]")
    page.wait_for_load_state()
    context.close()


def _download(page, fmt: str, folder: Path) -> Path:
    page.select_option("#format", fmt)
    page.select_option("#layout", "press")
    with page.expect_download() as info:
        page.click("form[action$='/export'] button[type=submit]")
    path = folder / info.value.suggested_filename
    info.value.save_as(path)
    return path


def _row(page, text: str):
    return page.locator("tr", has_text=text)


def test_an_organiser_runs_a_letter_from_the_browser(live_app, browser, smtp, tmp_path):
    shots = _shots(tmp_path)
    with live_app.app_context():
        _, organiser = make_account("org@example.org", "organiser", totp=True)
        _, press = make_account("press@example.org", "press", totp=True)
        db.session.remove()
    base = live_app.config["BASE_URL"]
    context = browser.new_context(locale="en-GB", accept_downloads=True)
    page = context.new_page()

    # 1. TOTP login.
    _log_in(page, base, "org@example.org", organiser)
    page.screenshot(path=shots / "01-letters.png", full_page=True)

    # 2. A letter in French, then its English text beside it; then opened.
    page.click("text=New letter")
    page.fill("input[name=slug]", SLUG)
    page.fill("input[name=lang]", "fr")
    page.fill("input[name=title]", "Libérez le mathématicien")
    page.fill("textarea[name=body]", "Nous demandons sa **libération** immédiate.")
    page.fill("input[name=goal]", "1000")
    page.fill("input[name=place]", "Paris")
    page.check("input[name=moderate_organizations]")
    page.click("button:has-text('Create the draft')")
    page.wait_for_url(f"{base}/admin/letters/{SLUG}/edit")
    texts = page.locator(f"form[action*='/admin/letters/{SLUG}/texts']")  # then #texts
    texts.locator("input[name=new_lang]").fill("en")
    texts.locator("input[name=new_title]").fill("Free the mathematician")
    texts.locator("textarea[name=new_body]").fill("We ask for his **immediate** release.")
    texts.locator("button:has-text('Save the texts')").click()
    page.wait_for_load_state()
    assert page.locator("text=Free the mathematician").count() or \
        page.locator("input[value='Free the mathematician']").count()
    page.screenshot(path=shots / "02-letter-edit.png", full_page=True)
    page.click("button:has-text('Open for signatures')")
    page.wait_for_load_state()

    # The press officer is given the letter by an admin (from the command line here).
    with live_app.app_context():
        accounts.assign_letter("press@example.org", SLUG, actor="root@example.org")
        db.session.remove()

    # 3. Signatures arrive: three organisations sign and confirm; the overview follows.
    overview = f"{base}/admin/letters/{SLUG}"
    _sign(browser, base, smtp, "Amnesty Nord", "FR", "contact@amnesty-nord.example")
    _sign(browser, base, smtp, "Mathematiker ohne Grenzen", "AT", "info@mog.example")
    page.goto(overview)
    held_before = page.locator("body").inner_text()
    _sign(browser, base, smtp, "Spam Org", "ES", "spam@spam.example")
    page.goto(overview)
    assert page.locator("body").inner_text() != held_before
    page.screenshot(path=shots / "03-overview.png", full_page=True)

    # 4. Moderation: approve two, reject one.
    page.goto(f"{base}/admin/letters/{SLUG}/moderation")
    page.screenshot(path=shots / "04-moderation.png", full_page=True)
    for name in ("Amnesty Nord", "Mathematiker ohne Grenzen"):
        _row(page, name).locator("input[name=ids]").check()
    page.click("button[name=decision][value=approve]")
    page.wait_for_load_state()
    _row(page, "Spam Org").locator("input[name=ids]").check()
    page.click("button[name=decision][value=reject]")
    page.wait_for_load_state()
    assert _row(page, "Spam Org").count() == 0

    # 5. Fix a country: the German group signed under Austria by mistake.
    page.goto(f"{base}/admin/letters/{SLUG}/signatures?q=Mathematiker")
    _row(page, "Mathematiker ohne Grenzen").locator("a").first.click()
    page.select_option("select[name=country]", "DE")
    page.click("button:has-text('Save')")
    page.wait_for_load_state()

    # 6. Import a CSV: the dry run writes nothing, then the import.
    csv_path = tmp_path / "paper-signatures.csv"
    csv_path.write_text("name,type,country\nLigue des droits,organisation,France\n"
                        "Memorial Paris,organisation,FR\n", encoding="utf-8")
    page.goto(f"{base}/admin/letters/{SLUG}/import")
    page.set_input_files("input[name=file]", str(csv_path))
    page.fill("input[name=provenance]", "Paper forms collected in Paris on 3 May")
    page.click("button:has-text('Check the file')")
    page.wait_for_load_state()
    page.screenshot(path=shots / "05-import-report.png", full_page=True)
    public = browser.new_context(locale="fr-FR").new_page()
    public.goto(f"{base}/letters/{SLUG}")
    assert "Ligue des droits" not in public.content()
    page.click("button:has-text('Import 2 signatures')")
    page.wait_for_load_state()
    public.goto(f"{base}/letters/{SLUG}")
    public.reload()  # the browser keeps the public page for max-age (docs/caching.md)
    content = public.content()
    assert "Ligue des droits" in content and "Amnesty Nord" in content
    assert "Spam Org" not in content
    group = public.locator(".signatories .group", has=public.locator("h4", has_text="Allemagne"))
    assert group.locator("li").all_inner_texts() == ["Mathematiker ohne Grenzen"]
    public.context.close()

    # 7. The press list as docx and pdf.
    page.goto(overview)
    docx = _download(page, "docx", tmp_path)
    with zipfile.ZipFile(docx) as archive:
        document = archive.read("word/document.xml").decode()
    assert "Amnesty Nord" in document and "Spam Org" not in document
    pdf = _download(page, "pdf", tmp_path)
    assert pdf.read_bytes().startswith(b"%PDF")

    # 8. Every step in the audit log.
    page.goto(f"{base}/admin/audit")
    page.screenshot(path=shots / "06-audit.png", full_page=True)
    log = page.locator("table").inner_text()
    for action in ("login.success", "letter.create", "letter.text", "letter.status",
                   "moderation.approve", "moderation.reject", "signature.correct", "import",
                   "export"):
        assert action in log, action
    assert "format=docx" in log and "format=pdf" in log
    assert "contact@amnesty-nord.example" not in log
    context.close()

    # 9. Press downloads the list and is refused every edit.
    context = browser.new_context(locale="fr-FR", accept_downloads=True)
    page = context.new_page()
    _log_in(page, base, "press@example.org", press)
    page.goto(overview)
    page.screenshot(path=shots / "07-press-overview.png", full_page=True)
    assert page.locator(f"a[href*='/admin/letters/{SLUG}/edit']").count() == 0
    docx = _download(page, "docx", tmp_path / "press")
    assert docx.read_bytes().startswith(b"PK")
    token = page.input_value("input[name=csrf_token]")
    headers = {"Referer": overview}
    for url in ("edit", "moderation", "signatures", "import", "signatures/new"):
        assert page.goto(f"{overview}/{url}").status == 403, url
    for url, form in (("status", {"status": "closed"}), ("texts", {"new_lang": "de"}),
                      ("moderation", {"decision": "approve"}), ("import", {})):
        response = page.request.post(f"{overview}/{url}", form={"csrf_token": token, **form},
                                     headers=headers)
        assert response.status == 403, url
    context.close()
