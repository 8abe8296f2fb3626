"""A letter's overview: human labels, what is new since the last export, the SVG chart."""
from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

import pytest

from petition.admin.chart import RIGHT, cumulative_chart, date_ticks, nice_step
from petition.extensions import db
from petition.models import INDIVIDUAL, MOD_HELD, PENDING, WITHDRAWN, utcnow
from tests.admin_helpers import log_in, make_account, signed_in_client
from tests.factories import make_letter, make_signature

SVG = "{http://www.w3.org/2000/svg}"


def _client(app, role="organiser"):
    return signed_in_client(app, f"{role}@example.org", role)


def _page(client) -> str:
    return client.get("/admin/letters/appeal",
                      headers={"Accept-Language": "en"}).get_data(as_text=True)


def _svg(page: str) -> ET.Element:
    match = re.search(r"<svg.*?</svg>", page, re.S)
    assert match, "no chart on the page"
    return ET.fromstring(match[0])


def _on_day(signature, day: dt.date) -> None:
    signature.confirmed_at = dt.datetime.combine(day, dt.time(12))
    db.session.commit()


def test_human_labels_and_totals(app):
    letter = make_letter("appeal")
    make_signature(letter, country="DE")
    make_signature(letter, country="DE", signer_type=INDIVIDUAL)
    make_signature(letter, status=PENDING)
    make_signature(letter, status=WITHDRAWN)
    make_signature(letter, moderation=MOD_HELD)
    page = _page(_client(app))
    for label in ("Awaiting confirmation", "Withdrawn", "Confirmed", "Organisations",
                  "Individuals", "Awaiting approval", "Germany"):
        assert f'<th scope="row">{label}</th>' in page, label
    assert '<th scope="row">pending</th>' not in page


def test_new_since_the_last_export(app):
    letter = make_letter("appeal")
    make_signature(letter)
    make_signature(letter)
    make_signature(letter, status=PENDING)  # not public: never counted
    client = _client(app)
    page = _page(client)
    assert "Never exported." in page and "2 public signatures so far." in page
    assert client.get("/admin/letters/appeal/export?format=txt").status_code == 200
    page = _page(client)
    assert "Last exported on" in page and "by organiser@example.org" in page
    assert "0 public signatures confirmed since then." in page
    make_signature(letter)
    make_signature(letter, moderation=MOD_HELD)  # held: not public
    assert "1 public signature confirmed since then." in _page(client)
    # An export of another letter does not count for this one.
    make_letter("other")
    root, secret = make_account("root@example.org", "admin", totp=True)
    admin = app.test_client()
    log_in(admin, "root@example.org", secret)
    admin.get("/admin/letters/other/export?format=txt")
    assert "1 public signature confirmed since then." in _page(client)
    admin.get("/admin/letters/appeal/export?format=md")
    page = _page(client)
    assert "0 public signatures confirmed since then." in page and "by root@example.org" in page


def test_the_chart_is_well_formed_and_follows_the_counts(app):
    letter = make_letter("appeal")
    today = utcnow().date()
    days = [today - dt.timedelta(days=9), today - dt.timedelta(days=9),
            today - dt.timedelta(days=4), today]
    for day in days:
        _on_day(make_signature(letter), day)
    _on_day(make_signature(letter, moderation=MOD_HELD), today)  # not public: not drawn
    make_signature(letter, status=PENDING)
    page = _page(_client(app))
    svg = _svg(page)
    assert svg.get("role") == "img"
    assert svg.find(f"{SVG}title").text == "Public signatures over time"
    assert svg.find(f"{SVG}desc").text
    labels = [text.text for text in svg.iter(f"{SVG}text")]
    assert (today - dt.timedelta(days=9)).isoformat() in labels and today.isoformat() in labels
    assert "4" in labels  # the value axis reaches the total
    line = [path for path in svg.iter(f"{SVG}path") if path.get("fill") == "none"][0]
    assert line.get("d").count("V") == 3  # three days with signatures, three steps up
    assert "4 public signatures from" in page and "the busiest day was" in page
    table = re.search(r'id="signatures-by-day">(.*?)</table>', page, re.S)[1]
    assert re.findall(r'<td class="num">(\d+)</td><td class="num">(\d+)</td>', table) == [
        ("2", "2"), ("1", "3"), ("1", "4")]


def test_no_chart_without_public_signatures(app):
    make_letter("appeal")
    page = _page(_client(app))
    assert "<svg" not in page and "No public signature yet." in page


# The drawing itself: a pure function.

def _parse(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))


def test_chart_escapes_every_text():
    svg = _parse(cumulative_chart([(dt.date(2024, 5, 1), 3)], title="<script>&", desc='"quoted"',
                                  id_prefix='x" onload="alert(1)'))
    assert svg.find(f"{SVG}title").text == "<script>&"
    assert svg.find(f"{SVG}desc").text == '"quoted"'
    assert svg.get("onload") is None
    assert svg.get("aria-labelledby") == 'x" onload="alert(1)-title x" onload="alert(1)-desc'


def test_chart_of_nothing_is_still_an_image():
    svg = _parse(cumulative_chart([], title="t", desc="d"))
    assert list(svg.iter(f"{SVG}path")) == []
    assert [text.text for text in svg.iter(f"{SVG}text")][:2] == ["0", "1"]


def test_chart_scales_to_the_data():
    points = [(dt.date(2024, 5, 1), 10), (dt.date(2024, 5, 3), 40), (dt.date(2024, 5, 31), 95)]
    svg = _parse(cumulative_chart(points, title="t", desc="d", width=400, height=200))
    assert svg.get("viewBox") == "0 0 400 200"
    values = [t.text for t in svg.iter(f"{SVG}text") if not t.text.startswith("2024")]
    assert values == ["0", "50", "100"]
    days = [t.text for t in svg.iter(f"{SVG}text") if t.text.startswith("2024")]
    assert days[0] == "2024-05-01" and days[-1] == "2024-05-31" and len(days) == 5
    line = [p for p in svg.iter(f"{SVG}path") if p.get("fill") == "none"][0].get("d")
    # Starts at the baseline of the first day, ends at the right edge, 95 of 100 up.
    assert line.startswith("M56 ")
    right = 400 - RIGHT
    assert f"H{right}" in line
    circle = svg.find(f"{SVG}circle")
    assert circle.get("cx") == str(right)
    top, bottom = 12, 200 - 28
    assert float(circle.get("cy")) == pytest.approx(bottom - (bottom - top) * 0.95, abs=0.1)


@pytest.mark.parametrize("maximum, step", [(0, 1), (1, 1), (3, 1), (7, 2), (10, 5), (95, 50),
                                           (120, 50), (1000, 500), (4321, 2000)])
def test_nice_step(maximum, step):
    assert nice_step(maximum) == step


def test_date_ticks():
    first = dt.date(2024, 1, 1)
    assert date_ticks(first, first) == [first]
    assert date_ticks(first, first + dt.timedelta(days=2)) == [
        first, first + dt.timedelta(days=1), first + dt.timedelta(days=2)]
    ticks = date_ticks(first, dt.date(2024, 12, 31))
    assert len(ticks) == 5 and ticks[0] == first and ticks[-1] == dt.date(2024, 12, 31)
