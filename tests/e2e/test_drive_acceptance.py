"""The "1000 letters" drive in Chromium, as its people live it: a supporter writes in
English and confirms from the mail (a real SMTP server), an organiser approves, a translator
translates into Russian, the organiser batches, downloads the PDF and marks the batch sent,
and the writer receives the "sent" mail. Screenshots of each step and the PDF's first page
go to test-artifacts/ for a person to look at."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pyotp
import pytest

from petition.drive import settings
from petition.extensions import db
from tests.admin_helpers import PASSWORD, make_account
from tests.conftest import skip_or_fail
from tests.drive_helpers import LETTER_EN, make_drive
from tests.e2e.conftest import mails_to, submit, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]

SLUG = "letters-to-azat"
WRITER = "marie.dupont@example.org"
TRANSLATION = ("Дорогой Азат!\n\nМы думаем о вас каждый день. Ваши студенты скучают по вашим "
               "лекциям по топологии.\n\nС тёплыми пожеланиями из Лиона.")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "drive-acceptance"


def _text(mail) -> str:
    return mail.message.get_body(preferencelist=("plain",)).get_content()


def _log_in(browser, base: str, email: str, secret: str):
    context = browser.new_context(locale="en-GB", accept_downloads=True)
    page = context.new_page()
    page.goto(f"{base}/admin/")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.fill("#totp", pyotp.TOTP(secret).now())
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/admin/")
    return context, page


def _shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_written_confirmed_translated_batched_sent(live_app, smtp, browser, tmp_path):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with live_app.app_context():
        make_drive(SLUG, title="1000 писем Азату", recipient="Мифтахов Азат Маратович",
                   recipient_address="ФКУ СИЗО-1 УФСИН России\nул. Матросская Тишина, 18\n"
                                     "Москва, 107076")
        settings.set_guidance(SLUG, "en", guidance="Do not write about the trial.",
                              risky_words="trial\nwar")
        _, organiser = make_account("org@example.org", "organiser", (SLUG,), totp=True)
        _, translator = make_account("tr@example.org", "translator", (SLUG,), totp=True)
        db.session.remove()
    base = live_app.config["BASE_URL"]

    # A supporter writes in English.
    writer_context = browser.new_context(locale="en-GB")
    writer = writer_context.new_page()
    writer.goto(f"{base}/letters/{SLUG}?lang=en")
    _shot(writer, "1-drive-page")
    writer.fill("input[name=name]", "Marie Dupont")
    writer.select_option("select[name=country]", "FR")
    writer.fill("input[name=email]", WRITER)
    writer.select_option("select[name=language]", "en")
    writer.fill("textarea[name=body]", LETTER_EN)
    writer.check("input[name=publish][value=initials]")
    writer.check("input[name=consent]")
    submit(writer, "form[action$='/write']")
    assert "check-your-mail" in writer.url

    [mail] = wait_for(lambda: mails_to(smtp, WRITER))
    [link] = set(re.findall(rf"{re.escape(base)}/drive/confirm/\S+", _text(mail)))
    writer.goto(link)
    assert "Dear Azat" in writer.locator("main").inner_text()
    _shot(writer, "2-confirm-page")
    submit(writer, "form.confirm")
    _shot(writer, "3-confirmed")

    # The organiser approves it.
    org_context, org = _log_in(browser, base, "org@example.org", organiser)
    org.goto(f"{base}/admin/letters/{SLUG}/drive")
    assert "Dear Azat" in org.locator("main").inner_text()
    _shot(org, "4-moderation-queue")
    org.click("form[action$='/approve'] button[type=submit]")
    org.wait_for_load_state()

    # The translator sees its queue only, and translates.
    tr_context, tr = _log_in(browser, base, "tr@example.org", translator)
    tr.click(f"a[href='/admin/letters/{SLUG}/drive/translations']")
    tr.click(f"a[href^='/admin/letters/{SLUG}/drive/translations/']")
    main = tr.locator("main").inner_text()
    assert "Dear Azat" in main and "Marie Dupont" in main and WRITER not in main
    tr.fill("#translation", TRANSLATION)
    _shot(tr, "5-translation")
    submit(tr, "form.admin-form")
    assert tr.goto(f"{base}/admin/letters/{SLUG}/drive").status == 403  # nothing else
    tr_context.close()

    # The organiser batches, downloads the PDF and marks the batch sent.
    org.goto(f"{base}/admin/letters/{SLUG}/drive/batches")
    submit(org, f"form[action='/admin/letters/{SLUG}/drive/batches']")
    _shot(org, "6-batch")
    with org.expect_download() as download_info:
        org.click("a[href$='format=pdf']")
    pdf = ARTIFACTS / "batch.pdf"
    download_info.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF-")
    org.fill("#service", "Zonatelecom")
    org.fill("#cost", "3.20")
    submit(org, "form[action$='/sent']")
    assert "Sent on" in org.locator("#sent").inner_text()
    _shot(org, "7-sent")
    org_context.close()

    # The writer is told, in English, and nothing more will come.
    sent = wait_for(lambda: [m for m in mails_to(smtp, WRITER) if "was sent on" in _text(m)])
    assert "Your address has now been deleted" in _text(sent[0])
    writer.goto(f"{base}/letters/{SLUG}?lang=en")
    # The browser keeps the page it saw minutes ago for PUBLIC_CACHE_SECONDS (it is
    # public: docs/caching.md); a reload asks again, as a person coming back later would.
    writer.reload()
    assert "M. D." in writer.locator("main").inner_text()  # published under initials
    _shot(writer, "8-drive-page-after")
    writer_context.close()

    # The PDF: Russian text under the recipient's header, read back by poppler.
    if not shutil.which("pdftotext"):
        skip_or_fail("poppler-utils (pdftotext, pdftoppm) not installed")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "Мифтахов Азат Маратович" in text and "Матросская Тишина" in text
    assert "Мы думаем о вас каждый день" in text and "Marie Dupont" in text
    assert "Dear Azat" not in text  # the censor reads Russian only
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf),
                    str(ARTIFACTS / "batch-page")], check=True)
