"""What a name or affiliation may hold: no link, nothing that defaces the list or hides the name.

Unit tests of petition.names, then the sign form, the back office and imports through it.
"""
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import func, select

from petition import names
from petition.extensions import db
from petition.models import OutboxMail, Signature
from petition.signatures.importing import import_signatures
from tests.admin_helpers import signed_in_client
from tests.factories import make_letter
from tests.helpers import outbox, rendered, sign_form

VALID = [
    "J.-P. Sartre", "St. Louis", "Univ. Paris 8", "A.B.C. e.V.", "Nguyễn Văn An",
    "Nguye\u0302\u0303n",  # Vietnamese typed decomposed: two marks on one letter
    "नरेन्द्र मोदी", "क्षत्रिय", "Thạch Thị Hồng", "M.Sc. student", "Ph.D., CNRS",
    "Dr. med. Anna Schmidt", "Мемориал", "Campagne #FREE120", "S.A.R.L. Dupont & Fils",
    "O'Brien", "Łukasz Żółć", "Confederación General del Trabajo CGT", "ул. Ленина, д. 5",
    "St. Petersburg Union", "e.V.", "M.Sc.", "Ассоциация «Мемориал»", "Dipl.-Ing. Jan Novák",
    "বাংলাদেশ মহিলা পরিষদ", "Trần Hưng Đạo", "Hội Nhà văn Việt Nam", "Union 1:2 Trust",
]

LINKS = [
    "http://evil.example", "Free prize https://x.y", "javascript://alert", "hxxp evil",
    "hxxps://evil", "www.evil", "WWW.EVIL", "Claim at win.example.com", "contact me at a@b.org",
    "evil.ru", "EVIL.COM", "mail.example.co.uk", "see bit.ly/abc", "evil[.]com",
    "evil(dot)com", "ｅｖｉｌ．ｃｏｍ", "evil。com", "пример.рф",
    "t.me/xyz", "paypal-verify.support", "secure-bank\u200d.com", "secure\u200c-bank.com",
    "ev\u00adil.com", "192.168.1.1/login", "Call 10.0.0.1", "[2001:db8::1]", "2001:db8::1/x",
    "http://[::1]", "fe80::1", "wa.me/123456", "login.microsoftonline.support",
]


@pytest.mark.parametrize("name", VALID)
def test_real_names_stay_valid(name):
    assert names.problem(name) is None


@pytest.mark.parametrize("text", LINKS)
def test_links_and_addresses_are_refused(text):
    assert names.problem(text) == names.LINK


@pytest.mark.parametrize("text, why", [
    ("Z\u0334\u0321\u0327\u031b\u031b\u031ba\u0338l\u0335g\u0337o", names.STACKED),
    ("a" + "\u0301" * 5, names.STACKED),
    ("\u3164", names.BLANK),
    ("\u115f\u3164\u1160", names.BLANK),
    ("\u2800\u2800\u2800", names.BLANK),
    ("\u0301\u0301", names.BLANK),
    ("\u200b\u2060 \ufe0f", names.BLANK),
    ("Bob\u3164", names.FILLER),
    ("Line\u2028break", names.ONE_LINE),
    ("Para\u2029graph", names.ONE_LINE),
])
def test_defacing_characters_are_refused(text, why):
    assert names.problem(text) == why


def test_the_public_suffix_list_decides_what_ends_a_domain():
    """Check names ending in real top-level domains the old hand list lacked."""
    for text in ("paypal-verify.support", "donate.charity", "bank.security", "aid.ngo"):
        assert names.holds_link(text), text
    for text in ("Dipl.-Ing.", "A.B.C.", "M.Sc./Ph.D."):
        assert not names.holds_link(text), text


def test_four_marks_on_a_letter_are_still_a_name():
    assert names.problem("a" + "\u0301" * names.MAX_MARKS_PER_LETTER + "b") is None


# --- the sign form ------------------------------------------------------------------------

def stored() -> tuple[int, int]:
    return (db.session.scalar(select(func.count(Signature.id))),
            db.session.scalar(select(func.count(OutboxMail.id))))


@pytest.mark.parametrize("field, value, message", [
    ("name", "Claim your prize at win-now.example.com", "without a link"),
    ("name", "http://phish", "without a link"),
    ("name", "www.phish", "without a link"),
    ("name", "write to help@phish.example", "without a link"),
    ("affiliation", "see phish.ru", "without a link"),
    ("name", "Z\u0334\u0321\u0327\u031b\u031b\u031b\u0338", "stacked accent marks"),
    ("name", "\u3164\u3164", "only blank or invisible"),
    ("name", "\u2800", "only blank or invisible"),
    ("affiliation", "one\u2028two", "single line"),
])
def test_sign_form_refuses_links_and_defacing(client, app, field, value, message):
    make_letter()
    response = client.post("/letters/appeal/sign?lang=en", data=sign_form(**{field: value}))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page and f'id="{field}-error"' in page
    assert stored() == (0, 0)


@pytest.mark.parametrize("name", ["J.-P. Sartre", "Nguyễn Văn An", "A.B.C. e.V.", "नरेन्द्र मोदी"])
def test_sign_form_takes_real_names(client, app, name):
    make_letter()
    response = client.post("/letters/appeal/sign", data=sign_form(
        signer_type="individual", name=name, affiliation="Univ. Paris 8"))
    assert response.status_code == 303
    assert db.session.scalar(select(Signature.name)) == name


def test_no_signer_type_is_chosen_for_the_signer(client, app):
    make_letter()
    page = client.get("/letters/appeal?lang=en").get_data(as_text=True)
    radios = [line for line in page.splitlines() if 'name="signer_type"' in line]
    assert len(radios) == 2 and not any("checked" in line for line in radios)
    data = sign_form()
    data.pop("signer_type")
    response = client.post("/letters/appeal/sign?lang=en", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    # One message, by the buttons and linked from the summary above the form.
    assert page.count("Please choose organisation or individual.") == 2
    assert '<a href="#signer_type-0">I sign as: Please choose organisation or individual.</a>' \
        in page
    assert "Not a valid choice" not in page
    assert 'id="signer_type-error"' in page
    assert stored() == (0, 0)
    response = client.post("/letters/appeal/sign?lang=en", data=sign_form(signer_type="robot"))
    assert response.status_code == 400 and "Please choose organisation or individual." in \
        response.get_data(as_text=True)
    assert stored() == (0, 0)


def test_a_letter_of_one_signer_type_needs_no_choice(client, app):
    make_letter(accepts_organizations=False)
    page = client.get("/letters/appeal?lang=en").get_data(as_text=True)
    assert '<input type="hidden" name="signer_type" value="individual">' in page
    assert "display-choice" not in page  # the display choice shows without condition
    data = sign_form(name="Marie Curie", display="initials")
    data.pop("signer_type")
    assert client.post("/letters/appeal/sign", data=data).status_code == 303
    assert db.session.scalar(select(Signature.signer_type)) == "individual"


def test_display_choice_is_in_a_fieldset_shown_for_individuals(client, app):
    make_letter()
    page = client.get("/letters/appeal?lang=en").get_data(as_text=True)
    assert '<fieldset class="display display-choice">' in page and "<legend>Show my name" in page
    css = (Path(app.static_folder) / "css" / "site.css").read_text(encoding="utf-8")
    assert ".sign .display-choice { display: none; }" in css
    assert "form:has(input[name=signer_type][value=individual]:checked) .display-choice" \
        " { display: block; }" in css


# --- the back office and imports ----------------------------------------------------------

def test_added_by_hand_and_corrected_names_are_checked_too(app):
    make_letter()
    organiser = signed_in_client(app)
    data = {"signer_type": "organization", "name": "Visit phish.example.com", "affiliation": "",
            "country": "BE", "display": "full", "provenance": "sent by post"}
    response = organiser.post("/admin/letters/appeal/signatures/new", data=data)
    assert response.status_code == 400 and "without a link" in response.get_data(as_text=True)
    assert stored() == (0, 0)
    response = organiser.post("/admin/letters/appeal/signatures/new",
                              data={**data, "name": "A.B.C. e.V."})
    assert response.status_code == 303
    public_id = db.session.scalar(select(Signature.public_id))
    response = organiser.post(f"/admin/letters/appeal/signatures/{public_id}",
                              data={"do": "correct", "name": "\u3164", "affiliation": "",
                                    "country": "BE"})
    assert response.status_code == 400
    assert "only blank or invisible" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(Signature.name)) == "A.B.C. e.V."


def test_import_reports_each_row_with_a_link(app, tmp_path):
    make_letter()
    path = tmp_path / "list.csv"
    path.write_text("name,type,country,affiliation\n"
                    "A.B.C. e.V.,organisation,DE,\n"
                    "Free money at www.phish,organisation,DE,\n"
                    "Marie Curie,individual,FR,see phish.ru\n", encoding="utf-8")
    report = import_signatures("appeal", path, dry_run=True)
    assert [(p.row, p.column, p.message) for p in report.issues] == [
        (3, "name", names.LINK), (4, "affiliation", names.LINK)]


# --- what the signer's mails echo ---------------------------------------------------------

class _TextNodes(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.nodes: list[str] = []

    def handle_data(self, data: str) -> None:
        self.nodes.append(data)


def text_nodes(page: str) -> list[str]:
    parser = _TextNodes()
    parser.feed(page)
    return parser.nodes


def test_signer_mails_greet_without_echoing_the_name(client, app):
    """Sign: the confirmation greets "Hello," and shows the name only where it is listed."""
    make_letter()
    client.post("/letters/appeal/sign?lang=en", data=sign_form(
        signer_type="individual", name="Marie Curie", email="mc@example.org"))
    [mail] = outbox()
    content = rendered(mail)
    assert content.text.startswith("Hello,\n")
    assert content.text.count("Marie Curie") == 1 and "Listed as: Marie Curie" in content.text
    assert "<p>Hello,</p>" in content.html and content.html.count("Marie Curie") == 1


def test_the_listing_in_an_html_mail_cannot_turn_into_a_link(client, app):
    """Sign with a dotted name: the HTML mail shows it, escaped, with no text node a mail
    client could autolink."""
    make_letter()
    client.post("/letters/appeal/sign?lang=en", data=sign_form(
        name="A.B.C. e.V. <Verein>", email="abc@example.org"))
    html = rendered(outbox()[0]).html
    assert "&lt;Verein&gt;" in html and "<Verein>" not in html
    nodes = text_nodes(html)
    assert "Listed as: A.B.C. e.V. <Verein>" in "".join(nodes)
    assert not [node for node in nodes if re.search(r"\w\.\w", node) and "e.V" in node]
