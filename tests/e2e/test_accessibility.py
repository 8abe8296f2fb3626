"""Accessibility checked, not assumed: axe-core in Chromium on every public step of signing.

For each language, one signatory goes the whole way in the browser: home, the letter with
its signatories, the form sent with mistakes, check-your-mail, the confirmation page from
the mail, the thank-you page. Each page is checked by axe at 1280 px and 390 px wide (the
same page resized, so a POST's answer is not sent twice) and saved as a full-page
screenshot for a person to look at: axe finds only what rules can find.

A violation of impact serious or critical fails the test; all of them are listed, not only
the first. axe-core is a pinned copy in tests/e2e/assets (see its README): no network here.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from petition.extensions import db
from petition.letters.demo import SLUG, seed_demo
from petition.models import CONFIRMED, FULL, INDIVIDUAL, Letter, Signature
from tests.e2e.conftest import SCREENSHOT_FOLDER, confirmation_link, mails_to, submit, wait_for
from tests.factories import make_signature

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]

ASSETS = Path(__file__).resolve().parent / "assets"
AXE_VERSION = "4.14.1"  # keep in step with assets/README.md
REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS_ENV = "A11Y_SCREENSHOTS"
LANGS = ("en", "fr", "ru")
# A desktop window and a common phone's width (CSS pixels); heights only start the page.
VIEWPORTS = ({"width": 1280, "height": 800}, {"width": 390, "height": 844})
BLOCKING = ("serious", "critical")


@dataclass(frozen=True)
class Finding:
    """One rule broken on one page at one width, with the elements that break it."""

    page: str
    width: int
    rule: str
    impact: str
    help: str
    nodes: tuple[str, ...]

    def line(self) -> str:
        return (f"[{self.page} @ {self.width} px] {self.rule} ({self.impact}): {self.help}\n"
                + "\n".join(f"    {node}" for node in self.nodes))


def _node(node: dict) -> str:
    """An element as axe names it, with why it fails (the contrast figures, the missing name)."""
    target = " ".join(str(part) for part in node["target"])
    checks = node.get("any") or node.get("all") or node.get("none") or []
    why = checks[0]["message"] if checks else (node.get("failureSummary") or "")
    return f"{target} — {why}"


def axe_findings(page, name: str) -> list[Finding]:
    """Run axe on what `page` shows now; its serious and critical violations."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # Evaluated through the DevTools protocol, which the site's CSP (script-src 'self')
        # does not govern; a <script> tag would be refused, as it should be.
        page.evaluate((ASSETS / "axe.min.js").read_text(encoding="utf-8"))
        assert page.evaluate("() => axe.version") == AXE_VERSION
    results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    width = page.viewport_size["width"]
    return [
        Finding(name, width, violation["id"], violation["impact"], violation["help"],
                tuple(_node(node) for node in violation["nodes"]))
        for violation in results["violations"]
        if violation["impact"] in BLOCKING
    ]


@pytest.fixture(scope="module")
def screenshot_folder(request) -> Path:
    """Kept after the run for a person to look at; A11Y_SCREENSHOTS moves it."""
    folder = Path(os.environ.get(SCREENSHOTS_ENV) or REPO / "test-artifacts" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    request.config.stash[SCREENSHOT_FOLDER] = folder.resolve()
    return folder


class Audit:
    """Checks each page a person reaches at every width, keeping every finding."""

    def __init__(self, page, lang: str, folder: Path) -> None:
        self.page, self.lang, self.folder = page, lang, folder
        self.findings: list[Finding] = []
        self.checked = 0

    def check(self, name: str) -> None:
        self.page.wait_for_load_state()
        # Sure we check the language we mean: ?lang= on the first page set the cookie.
        assert self.page.locator("html").get_attribute("lang") == self.lang, name
        for viewport in VIEWPORTS:
            self.page.set_viewport_size(viewport)
            self.page.screenshot(path=self.folder / f"{name}-{self.lang}-{viewport['width']}.png",
                                 full_page=True)
            self.findings += axe_findings(self.page, name)
            self.checked += 1
        self.page.set_viewport_size(VIEWPORTS[0])

    def report(self) -> str:
        return (f"axe-core {AXE_VERSION}: {len(self.findings)} serious or critical violation(s) "
                f"in {self.lang} (screenshots in {self.folder}):\n"
                + "\n".join(finding.line() for finding in self.findings))


def _seed(app) -> None:
    """The demo letter in en/fr/ru with organisations and individuals already listed."""
    with app.app_context():
        seed_demo()
        letter = db.session.scalar(select(Letter).where(Letter.slug == SLUG))
        make_signature(letter, name="Memorial Deutschland", country="DE")
        make_signature(letter, name="Confederación General del Trabajo", country="ES")
        make_signature(letter, name="Amnesty International", country="international")
        make_signature(letter, name="Марина Иванова", country="FR", signer_type=INDIVIDUAL,
                       display=FULL, affiliation="CNRS", lang="ru")


@pytest.mark.parametrize("lang", LANGS)
def test_public_pages_have_no_serious_violation(live_app, smtp, browser, screenshot_folder,
                                                lang):
    _seed(live_app)
    base = live_app.config["BASE_URL"]
    context = browser.new_context(locale=lang, viewport=VIEWPORTS[0])
    page = context.new_page()
    audit = Audit(page, lang, screenshot_folder)
    try:
        page.goto(f"{base}/?lang={lang}")
        audit.check("home")

        page.goto(f"{base}/letters/{SLUG}")
        audit.check("letter")

        # Nothing chosen, no name, an address that is not one, no consent.
        page.fill("input[name=email]", "not-an-address")
        submit(page, "form[action$='/sign']", status=400)
        assert page.locator(".field-error").count() >= 3, "the form did not come back with errors"
        audit.check("form-errors")

        email = f"axe-{lang}@example.org"
        page.check("input[name=signer_type][value=organization]")
        page.fill("input[name=name]", f"Accessibility Watch {lang}")
        page.select_option("select[name=country]", "DE")
        page.fill("input[name=email]", email)
        page.check("input[name=consent]")
        submit(page, "form[action$='/sign']")
        assert page.url == f"{base}/letters/{SLUG}/check-your-mail"
        audit.check("check-mail")

        [mail] = wait_for(lambda: mails_to(smtp, email))
        page.goto(confirmation_link(mail, base))
        assert page.locator("form[action*='/confirm/'] button[type=submit]").count() == 1
        audit.check("confirm")

        submit(page, "form[action*='/confirm/']")
        with live_app.app_context():
            name = f"Accessibility Watch {lang}"
            assert db.session.scalar(select(Signature.status).where(Signature.name == name)) \
                == CONFIRMED
        audit.check("thank-you")
    finally:
        context.close()
    print(f"{audit.checked} checks in {lang}; screenshots in {screenshot_folder}")
    assert not audit.findings, audit.report()
