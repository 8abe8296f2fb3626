"""The share image: /letters/<slug>/share.png, drawn on the server, kept like the press lists."""
from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from petition.exporting import press_cache, share_image
from petition.exporting.pdf import DEFAULT_FONT_DIR
from petition.extensions import db
from petition.models import DRAFT, utcnow
from tests.drive_helpers import confirm_token, details, make_drive
from tests.factories import make_letter, make_signature
from tests.test_press_cache import other_app, redis_keys, redis_port  # noqa: F401  (fixture)

URL = "/letters/appeal/share.png"
FONTS = share_image.Fonts(regular=Path(DEFAULT_FONT_DIR) / "DejaVuSans.ttf",
                          bold=Path(DEFAULT_FONT_DIR) / "DejaVuSans-Bold.ttf")


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.fixture
def draws(app, monkeypatch):
    """How many images were drawn (the real drawing, counted). Each request waits for its
    image: on a busy machine a drawing may outlast PRESS_BUILD_WAIT, and the previous image
    would be served meanwhile (as in production, by design)."""
    app.config["PRESS_BUILD_WAIT"] = 30
    calls: list[share_image.Card] = []
    real = share_image.draw

    def counted(card, fonts):
        calls.append(card)
        return real(card, fonts)

    monkeypatch.setattr(share_image, "draw", counted)
    return calls


# --- drawing ---------------------------------------------------------------------------------


def test_the_image_is_a_1200_by_630_png():
    data = share_image.draw(share_image.Card("Libérez-le", "Lettres", "3 signatures",
                                             "Objectif : 100", 0.03), FONTS)
    image = opened(data)
    assert data.startswith(b"\x89PNG") and image.format == "PNG"
    assert image.size == (1200, 630)


def test_cyrillic_is_drawn_with_its_own_glyphs():
    """DejaVu has Cyrillic: "Ж" is not the box a missing glyph gets (as an emoji here is)."""
    font = share_image._font(FONTS.bold, 60)
    missing = font.getmask("\U0001F600")
    for letter in "ЖяЁ":
        mask = font.getmask(letter)
        assert mask.size != missing.size or bytes(mask) != bytes(missing)


def test_each_part_of_the_card_shows():
    """Title, count, bar and goal each change pixels: none is silently left out."""
    bare = opened(share_image.draw(share_image.Card("Свобода", "Письма"), FONTS))
    counted = opened(share_image.draw(share_image.Card("Свобода", "Письма", "70 000 подписей"),
                                      FONTS))
    with_goal = opened(share_image.draw(share_image.Card(
        "Свобода", "Письма", "70 000 подписей", "Цель: 100 000", 0.7), FONTS))
    half_bar = opened(share_image.draw(share_image.Card(
        "Свобода", "Письма", "70 000 подписей", "Цель: 100 000", 0.2), FONTS))
    assert ImageChops.difference(bare, counted).getbbox() is not None
    assert ImageChops.difference(counted, with_goal).getbbox() is not None
    changed = ImageChops.difference(with_goal, half_bar).getbbox()
    assert changed is not None and changed[1] > 400  # only the bar, low in the image


def test_a_long_title_is_wrapped_on_three_lines_and_shortened():
    font = share_image._font(FONTS.bold, share_image._TITLE_SIZES[-1])
    title = " ".join(["освобождение"] * 40)
    size, lines = share_image._title_lines(title, FONTS.bold)
    assert size == share_image._TITLE_SIZES[-1] and len(lines) == 3
    assert lines[-1].endswith("…")
    assert all(font.getlength(line) <= share_image._TEXT_WIDTH for line in lines)
    # A short title keeps the largest size.
    assert share_image._title_lines("Free him", FONTS.bold) == (64, ["Free him"])


def test_a_word_wider_than_the_image_is_broken():
    font = share_image._font(FONTS.bold, 64)
    lines = share_image._wrapped("x" * 200, font, 500)
    assert len(lines) > 1 and "".join(lines) == "x" * 200
    assert all(font.getlength(line) <= 500 for line in lines)


# --- serving ---------------------------------------------------------------------------------


def test_served_as_png_with_etag_and_public_cache(client, app):
    letter = make_letter(goal=100)
    make_signature(letter)
    response = client.get(f"{URL}?lang=ru")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/png"
    assert opened(response.data).size == (1200, 630)
    assert response.headers["ETag"] and response.headers["Content-Language"] == "ru"
    assert response.headers["Cache-Control"].startswith("public, max-age=")
    # Shared caches keep only what sets no cookie: ?lang= here is the image's, not a choice.
    assert "Set-Cookie" not in response.headers


def test_a_304_when_nothing_changed_a_new_image_after_a_signature(client, app, draws):
    letter = make_letter(goal=100)
    make_signature(letter)
    first = client.get(f"{URL}?lang=fr")
    tag = first.headers["ETag"]
    assert client.get(f"{URL}?lang=fr", headers={"If-None-Match": tag}).status_code == 304
    assert client.get(f"{URL}?lang=fr").data == first.data
    assert len(draws) == 1  # built once, then kept
    assert draws[0].count_line == "1 signature"
    make_signature(letter)
    second = client.get(f"{URL}?lang=fr", headers={"If-None-Match": tag})
    assert second.status_code == 200 and second.headers["ETag"] != tag
    assert draws[-1].count_line == "2 signatures" and len(draws) == 2


def test_one_image_per_language_with_its_plural_forms_and_numbers(client, app, draws):
    letter = make_letter(goal=100_000)
    for _ in range(3):
        make_signature(letter)
    tags = {lang: client.get(f"{URL}?lang={lang}").headers["ETag"] for lang in ("en", "fr", "ru")}
    assert len(set(tags.values())) == 3
    by_lang = {card.count_line for card in draws}
    assert by_lang == {"3 signatures", "3 подписи"}
    goals = {card.goal_line for card in draws}
    assert "Goal: 100,000" in goals and "Objectif\xa0: 100\u202f000" in goals
    assert "Цель: 100\xa0000" in goals


def test_the_title_or_the_closing_draws_anew_without_a_signature(client, app, draws):
    letter = make_letter()
    tag = client.get(f"{URL}?lang=fr").headers["ETag"]
    letter.texts[0].title = "Libérez-les"
    db.session.commit()
    retitled = client.get(f"{URL}?lang=fr")
    assert retitled.headers["ETag"] != tag and draws[-1].title == "Libérez-les"
    letter.deadline = (utcnow() - dt.timedelta(days=2)).date()
    db.session.commit()
    closed = client.get(f"{URL}?lang=fr")
    assert closed.headers["ETag"] != retitled.headers["ETag"]
    assert draws[-1].status_line == "Close"  # "Closed", in French


def test_no_count_while_the_count_is_embargoed(client, app, draws):
    until = utcnow() + dt.timedelta(hours=2)
    letter = make_letter(goal=100, embargo_until=until)
    make_signature(letter)
    response = client.get(f"{URL}?lang=en")
    assert response.status_code == 200
    assert draws[-1].count_line is None and draws[-1].progress is None
    assert draws[-1].goal_line is None
    # A cache keeps it no longer than the embargo runs.
    max_age = int(response.headers["Cache-Control"].rsplit("=", 1)[1])
    assert 0 < max_age <= 300
    # New signatures change nothing the public can see, not even the tag.
    make_signature(letter)
    assert client.get(f"{URL}?lang=en").headers["ETag"] == response.headers["ETag"]
    # Once the count may be shown, it is.
    letter.embargo_count = True
    db.session.commit()
    client.get(f"{URL}?lang=en")
    assert draws[-1].count_line == "2 signatures"


def test_a_drive_counts_letters_written(client, app, draws):
    from petition.drive import writing

    make_drive(goal=1000)
    writing.write("letters-to-azat", details())
    writing.confirm(confirm_token())
    response = client.get("/letters/letters-to-azat/share.png?lang=ru")
    assert response.status_code == 200
    assert draws[-1].count_line == "1 письмо написано"
    assert draws[-1].title == "1000 писем Азату"


def test_unknown_draft_and_odd_requests(client, app):
    make_letter()
    make_letter("draft", status=DRAFT)
    assert client.get("/letters/nothing/share.png").status_code == 404
    assert client.get("/letters/draft/share.png").status_code == 404
    for query in ("?lang=xx", "?lang=", "?lang=%00", "?lang=" + "r" * 5000):
        response = client.get(URL + query)
        assert response.status_code in (200, 400), query
    no_lang = client.get(URL, headers={"Accept-Language": "ru"})
    assert no_lang.headers["Content-Language"] == "ru"
    assert "Accept-Language" in no_lang.headers["Vary"]


def test_missing_fonts_give_a_404_not_a_500(client, app, tmp_path):
    make_letter()
    app.config["PDF_FONT_DIR"] = str(tmp_path)
    assert client.get(URL).status_code == 404


def test_two_apps_share_the_image_through_redis(app, tmp_path, redis_port, draws):  # noqa: F811
    port, _ = redis_port
    url = f"redis://127.0.0.1:{port}/0"
    first = other_app(app, tmp_path / "a", CACHE_REDIS_URL=url)
    second = other_app(app, tmp_path / "b", CACHE_REDIS_URL=url)
    letter = make_letter(goal=10)
    make_signature(letter)
    built = first.test_client().get(f"{URL}?lang=fr")
    assert len(draws) == 1
    assert any(key.endswith(b":share.png") for key in redis_keys(port))
    again = second.test_client().get(f"{URL}?lang=fr")
    assert again.data == built.data and again.headers["ETag"] == built.headers["ETag"]
    assert len(draws) == 1  # taken from Redis, not drawn again
    for each in (first, second):
        shared = press_cache.cache(each)._client
        if shared is not None:
            shared.close()
        with each.app_context():
            db.engine.dispose()
