"""The JSON counter."""
from tests.factories import make_letter, make_signature


def test_letter_json_counts_public_signatures_by_country(client, app):
    letter = make_letter(goal=1000)
    for country in ("DE", "DE", "FR", "international"):
        make_signature(letter, country=country)
    make_signature(letter, country="FR", status="pending")
    make_signature(letter, country="FR", moderation="held")
    data = client.get("/letters/appeal.json?lang=fr").get_json()
    assert data["slug"] == "appeal" and data["goal"] == 1000 and data["total"] == 4
    assert data["by_country"][0] == {"code": "DE", "name": "Allemagne", "count": 2}
    assert {"code": "international", "name": "International", "count": 1} in data["by_country"]


def test_letter_json_unknown_is_404(client, app):
    assert client.get("/letters/nope.json").status_code == 404


def test_letter_json_lets_other_sites_read_its_etag_and_revalidate(client, app):
    letter = make_letter(goal=1000)
    make_signature(letter, country="DE")
    first = client.get("/letters/appeal.json", headers={"Origin": "https://partner.example"})
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    assert first.headers["Access-Control-Expose-Headers"] == "ETag"
    tag = first.headers["ETag"]
    assert client.get("/letters/appeal.json",
                      headers={"If-None-Match": tag}).status_code == 304
    make_signature(letter, country="FR")
    again = client.get("/letters/appeal.json", headers={"If-None-Match": tag})
    assert again.status_code == 200 and again.get_json()["total"] == 2
