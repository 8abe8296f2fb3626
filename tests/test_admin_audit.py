"""The audit log's filters, its CSV with the same filters, and its pages."""
from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest

from petition.accounts import audit
from petition.extensions import db
from petition.models.accounts import AuditEvent
from tests.admin_helpers import signed_in_client
from tests.factories import make_letter

# The test's own accounts and logins, left out of what is compared.
OURS = ("root@example.org", "org@example.org", "test")


@pytest.fixture
def events(app):
    make_letter("appeal")
    make_letter("other")
    rows = [
        (dt.datetime(2024, 5, 1, 9), "ann@example.org", "export", "appeal", "format=txt"),
        (dt.datetime(2024, 5, 2, 23, 59), "bob@example.org", "import", "appeal", "file=a.csv"),
        (dt.datetime(2024, 5, 3, 0, 0), "ann@example.org", "import.check", "other", "file=b.csv"),
        (dt.datetime(2024, 5, 4, 12), "Bob@Example.org", "login.success", None, ""),
        (dt.datetime(2024, 5, 5, 12), "x%_y@example.org", "login.failure", None, ""),
    ]
    for at, actor, action, slug, detail in rows:
        db.session.add(AuditEvent(at=at, actor=actor, action=action, letter_slug=slug,
                                  detail=detail))
    db.session.commit()


def _client(app, email, role, letters=()):
    return signed_in_client(app, email, role, letters)


def _details(client, query: str = "") -> list[str]:
    """(action, detail) of the events the page shows, those of the test's logins left out."""
    page = client.get(f"/admin/audit{query}").get_data(as_text=True)
    rows = re.findall(r"<tr><td>[^<]*</td><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td>", page)
    return [f"{action}:{slug}" for actor, action, slug in rows if actor not in OURS]


def _csv(client, query: str = "") -> list[dict]:
    response = client.get(f"/admin/audit.csv{query}")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    return [row for row in rows if row["actor"] not in OURS]


def test_each_filter(app, events):
    root = _client(app, "root@example.org", "admin")
    assert _details(root) == ["login.failure:", "login.success:", "import.check:other",
                              "import:appeal", "export:appeal"]
    assert _details(root, "?actor=BOB") == ["login.success:", "import:appeal"]
    assert _details(root, "?actor=%25_") == ["login.failure:"]  # LIKE wildcards taken literally
    assert _details(root, "?action=login") == ["login.failure:", "login.success:"]
    assert _details(root, "?action=import") == ["import.check:other", "import:appeal"]
    assert _details(root, "?action=import.") == ["import.check:other"]
    assert _details(root, "?letter=appeal") == ["import:appeal", "export:appeal"]
    assert _details(root, "?since=2024-05-02&until=2024-05-03") == ["import.check:other",
                                                                    "import:appeal"]
    assert _details(root, "?until=2024-05-02&action=imp&actor=bob") == ["import:appeal"]


def test_the_csv_honours_the_filters_and_the_page_links_to_it(app, events):
    root = _client(app, "root@example.org", "admin")
    rows = _csv(root, "?action=import&letter=appeal")
    assert [(row["action"], row["letter"], row["detail"]) for row in rows] == [
        ("import", "appeal", "file=a.csv")]
    assert len(_csv(root, "?since=2024-05-04")) == 2
    page = root.get("/admin/audit?action=import&letter=appeal").get_data(as_text=True)
    link = re.search(r'href="([^"]+)" id="audit-csv"', page)[1].replace("&amp;", "&")
    assert (link.startswith("/admin/audit.csv?") and "action=import" in link
            and "letter=appeal" in link)
    assert 'value="import"' in page and '<option value="appeal" selected>' in page


def test_organisers_see_only_their_letters_whatever_the_filter(app, events):
    organiser = _client(app, "org@example.org", "organiser", ("appeal",))
    assert _details(organiser) == ["import:appeal", "export:appeal"]
    assert _details(organiser, "?letter=other") == []
    assert _details(organiser, "?action=login") == []
    assert _csv(organiser, "?letter=other") == []
    assert {row["letter"] for row in _csv(organiser)} == {"appeal"}
    # Their own logins, with no letter, they do see; nobody else's.
    response = organiser.get("/admin/audit.csv?action=login")
    own = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert [(row["actor"], row["action"]) for row in own] == [("org@example.org", "login.success")]


def test_bad_dates_are_refused(app, events):
    root = _client(app, "root@example.org", "admin")
    response = root.get("/admin/audit?since=yesterday")
    assert response.status_code == 400
    assert "YYYY-MM-DD" in response.get_data(as_text=True)
    assert root.get("/admin/audit.csv?until=2024-13-01").status_code == 400


def test_pages_of_older_events(app, events, monkeypatch):
    monkeypatch.setattr(audit, "PAGE_SIZE", 2)
    root = _client(app, "root@example.org", "admin")
    seen, url = [], "/admin/audit?actor=example.org"
    while url:
        page = root.get(url).get_data(as_text=True)
        seen += re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td>", page)
        older = re.search(r'<a href="([^"]+)" rel="next">', page)
        url = older[1].replace("&amp;", "&") if older else None
        assert url is None or "actor=example.org" in url
    # Every event once, newest first.
    expected = db.session.query(AuditEvent).filter(AuditEvent.actor.ilike("%example.org%"))
    assert len(seen) == len(set(seen)) == expected.count() >= 7
    assert [row[0] for row in seen] == sorted((row[0] for row in seen), reverse=True)
