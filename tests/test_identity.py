"""The site's identity: its name, organiser, contact and logo, wherever visitors see them."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import html5lib
import pytest

from tests.factories import make_letter
from tests.helpers import assert_valid_html, outbox, rendered, sign_form

ROOT = Path(__file__).resolve().parent.parent
PNG = bytes.fromhex(  # a 1x1 transparent PNG
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)


def visible_text(page: str) -> str:
    """What a visitor reads: text and alt texts, not URLs, ids or class names."""
    tree = html5lib.parse(page, namespaceHTMLElements=False)
    for hidden in [*tree.iter("script"), *tree.iter("style")]:
        hidden.text = ""
    alts = " ".join(image.get("alt") or "" for image in tree.iter("img"))
    return " ".join(tree.itertext()) + " " + alts


@pytest.fixture
def named(app):
    app.config.update(SITE_NAME="Free Boris", ORGANISER_NAME="Comité Kagarlitsky",
                      ORGANISER_CONTACT="press@free.example")
    return app


def test_header_footer_and_titles_carry_the_site_name(named, client):
    make_letter()
    for path in ("/", "/letters/appeal", "/privacy", "/withdraw", "/nowhere"):
        page = client.get(f"{path}?lang=en").get_data(as_text=True)
        assert_valid_html(page)
        tree = html5lib.parse(page, namespaceHTMLElements=False)
        assert tree.find(".//header//a[@class='brand']").text.strip() == "Free Boris", path
        assert tree.find(".//title").text.endswith("Free Boris"), path
        footer = "".join(tree.find(".//footer").itertext())
        assert "Free Boris" in footer and "Run by Comité Kagarlitsky" in footer, path
        assert tree.find(".//footer//a[@href='mailto:press@free.example']") is not None, path


def test_no_page_a_visitor_sees_says_petition(named, client):
    make_letter()
    client.post("/letters/appeal/sign", data=sign_form())
    for path in ("/", "/letters/appeal", "/letters/appeal/check-your-mail", "/privacy",
                 "/letters/appeal/privacy", "/withdraw", "/nowhere", "/confirm/bad"):
        response = client.get(f"{path}?lang=en")
        assert "petition" not in visible_text(response.get_data(as_text=True)).lower(), path


@pytest.mark.parametrize("site, organiser, lang, shown", [
    ("", "Comité Kagarlitsky", "en", "Comité Kagarlitsky"),
    ("", "", "en", "Open letters"),
    ("", "", "ru", "Открытые письма"),
    ("  ", "", "fr", "Lettres ouvertes"),
])
def test_without_a_site_name_the_organiser_then_a_neutral_name(app, client, site, organiser,
                                                              lang, shown):
    app.config.update(SITE_NAME=site, ORGANISER_NAME=organiser)
    page = client.get(f"/privacy?lang={lang}").get_data(as_text=True)
    tree = html5lib.parse(page, namespaceHTMLElements=False)
    assert tree.find(".//header//a[@class='brand']").text.strip() == shown


def test_the_privacy_notice_names_site_and_organiser(named, client):
    page = client.get("/privacy?lang=en").get_data(as_text=True)
    assert "This site, Free Boris, is run by Comité Kagarlitsky." in page


def test_a_contact_page_is_linked_and_anything_else_is_plain_text(app, client):
    app.config.update(ORGANISER_NAME="Comité", ORGANISER_CONTACT="https://free.example/contact")
    assert 'href="https://free.example/contact"' in client.get("/?lang=en").get_data(as_text=True)
    app.config["ORGANISER_CONTACT"] = "javascript:alert(1)"
    page = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert 'href="javascript' not in page and "javascript:alert(1)" in page


def test_mails_end_with_the_site_and_its_organiser(named, client):
    make_letter()
    client.post("/letters/appeal/sign?lang=en", data=sign_form())
    [mail] = outbox("confirm")
    content = rendered(mail)  # as the mail worker renders it at delivery
    assert content.text.rstrip().endswith(
        "-- \nFree Boris · Run by Comité Kagarlitsky\nContact: press@free.example")
    assert 'href="mailto:press@free.example"' in content.html
    assert "petition" not in visible_text(content.html).lower()


def test_the_sender_name_defaults_to_the_site_name():
    env = {**os.environ, "SITE_NAME": "Free Boris", "MAIL_FROM": ""}
    env.pop("PETITION_ENV", None)
    sender = subprocess.run(
        [sys.executable, "-c", "import config; print(config.Config.MAIL_FROM)"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert sender == "Free Boris <noreply@localhost>"
    env.pop("SITE_NAME")
    env.pop("ORGANISER_NAME", None)
    sender = subprocess.run(
        [sys.executable, "-c", "import config; print(config.Config.MAIL_FROM)"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert sender == "Open letters <noreply@localhost>"


# --- the logo --------------------------------------------------------------------------------

def test_no_logo_no_image(app, client):
    app.instance_path = str(Path(app.config["EXPORT_DIR"]).parent / "empty-instance")
    assert "<img" not in client.get("/", follow_redirects=True).get_data(as_text=True)
    assert client.get("/site-logo").status_code == 404


def test_a_logo_in_instance_is_shown_with_the_site_name_as_alt(named, client, tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "logo.png").write_bytes(PNG)
    named.instance_path = str(instance)
    page = client.get("/?lang=en").get_data(as_text=True)
    assert_valid_html(page)
    tree = html5lib.parse(page, namespaceHTMLElements=False)
    image = tree.find(".//header//a[@class='brand']/img")
    assert image.get("src") == "/site-logo" and image.get("alt") == "Free Boris"
    with client.get("/site-logo") as response:
        assert response.status_code == 200 and response.data == PNG
        assert response.mimetype == "image/png"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response.headers["Content-Security-Policy"]


def test_site_logo_path_absolute_or_relative_to_instance(app, client, tmp_path):
    svg = tmp_path / "brand" / "mark.svg"
    svg.parent.mkdir()
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>')
    app.config["SITE_LOGO"] = str(svg)
    with client.get("/site-logo") as response:
        assert response.status_code == 200 and response.mimetype == "image/svg+xml"
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    app.instance_path = str(tmp_path)
    app.config["SITE_LOGO"] = "brand/mark.svg"
    with client.get("/site-logo") as response:
        assert response.status_code == 200 and response.mimetype == "image/svg+xml"


def test_a_logo_of_another_type_is_never_served(app, client, tmp_path):
    page = tmp_path / "logo.html"
    page.write_text("<script>alert(1)</script>")
    app.config["SITE_LOGO"] = str(page)
    assert client.get("/site-logo").status_code == 404
    assert "<img" not in client.get("/", follow_redirects=True).get_data(as_text=True)
