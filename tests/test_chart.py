"""The public chart: confirmed signatures per day, an SVG drawn on the server and a table."""
from __future__ import annotations

import datetime as dt
import re

from petition.extensions import db
from petition.models import INDIVIDUAL, MOD_HELD, PENDING, Letter, utcnow
from tests.factories import make_letter, make_signature
from tests.helpers import assert_valid_html

DAYS = {dt.datetime(2026, 12, 1, 23, 59): 2, dt.datetime(2026, 12, 3, 0, 1): 1,
        dt.datetime(2026, 12, 3, 12): 3}


def chart_letter(**fields) -> Letter:
    letter = make_letter(show_chart=True, **fields)
    for when, count in DAYS.items():
        for _ in range(count):
            signature = make_signature(letter, signer_type=INDIVIDUAL, country="FR",
                                       commit=False)
            signature.confirmed_at = when
    db.session.commit()
    # Not counted: a pending signature and one held for moderation.
    make_signature(letter, status=PENDING)
    make_signature(letter, moderation=MOD_HELD)
    return letter


def chart_of(client, lang: str) -> str:
    page = client.get(f"/letters/appeal?lang={lang}").get_data(as_text=True)
    assert_valid_html(page)
    start = page.index('<section class="signature-days"')
    return page[start:page.index("</section>", start)]


def test_the_chart_shows_each_day_confirmed_signatures_in_bars_and_a_table(client, app):
    chart_letter()
    chart = chart_of(client, "en")
    # Two days with signatures: two bars, their heights in proportion (2 and 4, axis to 5).
    heights = [float(h) for h in re.findall(r'<rect [^>]*height="([\d.]+)"', chart)]
    assert len(heights) == 2 and abs(heights[1] / heights[0] - 2) < 0.01
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th><td>(\d+)</td><td>(\d+)</td></tr>',
                      chart)
    assert rows == [("Dec 1, 2026", "2", "2"), ("Dec 3, 2026", "4", "6")]
    assert 'role="img"' in chart and "6 signatures from December 1, 2026 to December 3" in chart
    assert "style=" not in chart and "<script" not in chart


def test_the_chart_speaks_the_readers_language(client, app):
    chart_letter()
    fr = chart_of(client, "fr")
    assert "1 déc. 2026" in fr and "Signatures confirmées par jour" in fr
    ru = chart_of(client, "ru")
    assert "3 дек. 2026\u202fг." in ru  # CLDR: a narrow no-break space before г.


def test_the_chart_is_shown_only_when_switched_on_and_the_list_is_public(client, app):
    letter = chart_letter()
    letter.show_chart = False
    db.session.commit()
    assert "signature-days" not in client.get("/letters/appeal?lang=en").get_data(as_text=True)
    letter.show_chart = True
    letter.embargo_until = utcnow() + dt.timedelta(days=1)
    letter.embargo_count = True
    db.session.commit()
    page = client.get("/letters/appeal?lang=en").get_data(as_text=True)
    assert "signature-days" not in page and "6 signatures" in page


def test_the_chart_follows_a_new_confirmation(client, app):
    letter = chart_letter()
    assert "<td>6</td>" in chart_of(client, "en")
    make_signature(letter, signer_type=INDIVIDUAL, country="DE")
    chart_of(client, "en")  # the figures from before, while a thread counts again
    for thread in list(app.extensions.get("petition.grouping.threads", {}).values()):
        thread.join(30)
    chart = chart_of(client, "en")
    assert "<td>7</td>" in chart and len(re.findall("<rect ", chart)) == 3
