"""The press list built once per state of the list: ETag and 304, two processes on one
database, two processes sharing one Redis, Redis gone, and never Redis for an embargo."""
from __future__ import annotations

import datetime as dt
import gzip
import signal
import threading
import time

import pytest
from sqlalchemy import text, update

from petition import create_app
from petition.exporting import grouping, md, press_cache, txt
from petition.exporting import html_page as html_format
from petition.exporting.document import Document, blocks, text_lines
from petition.extensions import db
from petition.letters import operations as letters
from petition.models import Letter, utcnow
from tests.conftest import FreshContextClient, base_config
from tests.factories import make_letter, make_signature
from tests.smtp_server import free_port
from tests.test_faults_redis import redis_server

URL = "/letters/appeal/signatories.txt?lang=fr"


def other_app(app, tmp_path, **config):
    """A second app on the same database, with caches of its own: another worker."""
    other = create_app({**base_config(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "other"),
                        **config})
    other.test_client_class = FreshContextClient
    return other


def get(app, url: str = URL, **headers):
    return app.test_client().get(url, headers=headers)


def test_the_list_carries_an_etag_and_a_304_costs_no_build(app, client):
    letter = make_letter()
    make_signature(letter, name="Erste Gruppe")
    first = client.get(URL)
    assert first.status_code == 200 and "Erste Gruppe" in first.get_data(as_text=True)
    assert first.headers["Cache-Control"] == "public, max-age=30, stale-while-revalidate=60"
    assert first.headers["ETag"] and first.headers["Last-Modified"]
    assert "Accept-Encoding" in first.headers["Vary"]
    again = client.get(URL, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == first.headers["ETag"]
    # Another format or language is another file.
    assert client.get("/letters/appeal/signatories.md?lang=fr",
                      headers={"If-None-Match": first.headers["ETag"]}).status_code == 200
    make_signature(letter, name="Zweite Gruppe")
    changed = client.get(URL, headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and "Zweite Gruppe" in changed.get_data(as_text=True)
    assert changed.headers["ETag"] != first.headers["ETag"]


def test_gzip_is_served_as_kept_to_clients_that_take_it(app, client):
    make_signature(make_letter(), name="Erste Gruppe")
    plain = client.get(URL)
    packed = client.get(URL, headers={"Accept-Encoding": "gzip, br"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.data) == plain.data
    assert packed.headers["ETag"] != plain.headers["ETag"]  # another representation
    assert client.get(URL, headers={"Accept-Encoding": "gzip",
                                    "If-None-Match": packed.headers["ETag"]}).status_code == 304


def test_the_fast_press_layout_writes_what_the_blocks_say(app):
    """txt, md and html join a group's names in one go; the bytes are the block renderers'."""
    letter = make_letter()
    for name, kind, display, country in [
        ("1. Verein *fett*", "organization", "full", "DE"), ("<b>Org</b> & \"Co\"", "organization",
                                                             "full", "FR"),
        ("- Liste", "individual", "full", "DE"), ("Анна Иванова", "individual", "full", "DE"),
        ("Jean Dupont", "individual", "initials", "FR"), ("Caché", "individual", "anonymous", "FR"),
        ("+ Plus # Hash", "individual", "full", "international"),
    ]:
        make_signature(letter, name=name, signer_type=kind, display=display, country=country)
    for lang in ("fr", "ru", "en"):
        document = Document(letter, lang)
        assert txt.press(document) == "".join(f"{line}\n" for line in text_lines(blocks(document)))
        assert md.press(document) == "\n".join(md.lines(document)) + "\n"
        assert html_format.press(document) == "\n".join(
            [html_format._head(document), *html_format._body(document), "</body>\n</html>\n"])


def test_a_change_made_through_another_app_shows_at_once(app, client, tmp_path):
    letter = make_letter()
    make_signature(letter, name="Erste Gruppe")
    other = other_app(app, tmp_path)
    assert "Erste Gruppe" in get(other).get_data(as_text=True)  # the other keeps it
    assert "Erste Gruppe" in client.get(URL).get_data(as_text=True)
    make_signature(letter, name="Zweite Gruppe")
    assert "Zweite Gruppe" in get(other).get_data(as_text=True)
    letters.set_label("appeal", lang="fr", code="DE", label="RFA")
    assert get(other).get_data(as_text=True).startswith("RFA\n")
    with other.app_context():
        db.engine.dispose()


def test_a_restored_database_gets_a_new_token_on_its_next_change(app):
    """The token is random: a change after a restore never lands on a token seen before."""
    letter = make_letter()
    tokens = set()
    for number in range(5):
        make_signature(letter, name=f"Gruppe {number}")
        tokens.add(grouping.public_state(letter.id).token)
    assert len(tokens) == 5 and all(len(token) == 32 for token in tokens)


@pytest.fixture
def redis_port():
    port = free_port()
    with redis_server(port) as process:
        yield port, process


def redis_keys(port: int) -> list[bytes]:
    import redis

    client = redis.Redis(host="127.0.0.1", port=port)
    try:
        return [key for key in client.keys(f"{press_cache.KEY_PREFIX}*")
                if not key.endswith(b":lock")]
    finally:
        client.close()


def test_two_apps_share_one_redis_and_neither_serves_an_old_list(app, tmp_path, redis_port):
    port, _ = redis_port
    url = f"redis://127.0.0.1:{port}/0"
    first = other_app(app, tmp_path / "a", CACHE_REDIS_URL=url)
    second = other_app(app, tmp_path / "b", CACHE_REDIS_URL=url)
    letter = make_letter()
    make_signature(letter, name="Erste Gruppe")
    built = get(first).get_data(as_text=True)
    assert "Erste Gruppe" in built and len(redis_keys(port)) == 1
    # Change a name around the use cases (no new token): the second app, had it built the
    # list itself, would show it; it shows what the first built, from Redis.
    db.session.execute(text("UPDATE signature SET name = 'Verfälscht' WHERE name = 'Erste Gruppe'"))
    db.session.commit()
    assert get(second).get_data(as_text=True) == built
    # A change through the use cases: a new token, and neither app serves the old list.
    make_signature(letter, name="Zweite Gruppe")
    for each in (second, first):
        fresh = get(each).get_data(as_text=True)
        assert "Zweite Gruppe" in fresh and "Verfälscht" in fresh and "Erste Gruppe" not in fresh
    assert len(redis_keys(port)) == 2
    for each in (first, second):
        with each.app_context():
            db.engine.dispose()


def test_redis_gone_leaves_each_process_to_build_its_own(app, tmp_path, redis_port, caplog):
    port, process = redis_port
    served = other_app(app, tmp_path, CACHE_REDIS_URL=f"redis://127.0.0.1:{port}/0")
    letter = make_letter()
    make_signature(letter, name="Erste Gruppe")
    assert get(served).status_code == 200
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    make_signature(letter, name="Zweite Gruppe")
    started = time.monotonic()
    response = get(served)
    assert response.status_code == 200 and "Zweite Gruppe" in response.get_data(as_text=True)
    assert time.monotonic() - started < 2  # one refused connection, then without Redis
    assert "Redis does not answer" in caplog.text
    make_signature(letter, name="Dritte Gruppe")
    assert "Dritte Gruppe" in get(served).get_data(as_text=True)
    with served.app_context():
        db.engine.dispose()


def test_an_embargoed_list_is_never_taken_from_redis(app, tmp_path, redis_port):
    port, _ = redis_port
    served = other_app(app, tmp_path, CACHE_REDIS_URL=f"redis://127.0.0.1:{port}/0")
    letter = make_letter()
    make_signature(letter, name="Erste Gruppe")
    assert get(served).status_code == 200 and len(redis_keys(port)) == 1
    # The embargo set around the use cases: the token stays, its file is still in Redis.
    db.session.execute(update(Letter).where(Letter.id == letter.id)
                       .values(embargo_until=utcnow() + dt.timedelta(hours=1)))
    db.session.commit()
    fresh = other_app(app, tmp_path / "fresh", CACHE_REDIS_URL=f"redis://127.0.0.1:{port}/0")
    for each in (served, fresh):
        response = get(each)
        assert response.status_code == 404 and "Erste Gruppe" not in response.get_data(as_text=True)
        assert "ETag" not in response.headers
        assert get(each, If_None_Match="*").status_code == 404
    for each in (served, fresh):
        with each.app_context():
            db.engine.dispose()


def test_bytes_tampered_with_in_redis_are_never_served(app, tmp_path, redis_port, caplog):
    """Serve no press list whose bytes in Redis were changed; rebuild it and warn once."""
    import redis

    port, _ = redis_port
    url = f"redis://127.0.0.1:{port}/0"
    first = other_app(app, tmp_path / "a", CACHE_REDIS_URL=url)
    letter = make_letter()
    make_signature(letter, name="Erste Gruppe")
    md_url = URL.replace(".txt", ".md")
    for each in (URL, md_url):
        assert "Erste Gruppe" in get(first, each).get_data(as_text=True)
    client = redis.Redis(host="127.0.0.1", port=port)
    try:
        keys = redis_keys(port)
        assert len(keys) == 2
        for key in keys:  # the same framing, another list in place of the gzip bytes
            stored = client.get(key)
            start = stored.index(b"\x1f\x8b\x08")
            client.set(key, stored[:start] + gzip.compress(b"Forged list\n", mtime=0))
        second = other_app(app, tmp_path / "b", CACHE_REDIS_URL=url)
        for each in (URL, md_url):
            served = get(second, each).get_data(as_text=True)
            assert "Forged" not in served and "Erste Gruppe" in served
        warnings = [r for r in caplog.records if "integrity" in r.getMessage()]
        assert len(warnings) == 1 and warnings[0].levelname == "WARNING"
        # Built again and stored again, in place of the forged bytes.
        for key in keys:
            stored = client.get(key)
            assert b"Erste Gruppe" in gzip.decompress(stored[stored.index(b"\x1f\x8b\x08"):])
    finally:
        client.close()
    for each in (first, second):
        with each.app_context():
            db.engine.dispose()


def test_a_big_list_being_rebuilt_serves_the_previous_one_meanwhile(app):
    """Past `wait` seconds of a build that took longer before, the previous file; then the new."""
    cache = press_cache.PressCache(None, 0.5)
    slot = (1, "fr", "txt")
    release = threading.Event()

    def slow(body: bytes):
        def build() -> bytes:
            release.wait(5)
            return body
        return build

    release.set()
    assert cache.get(slot, "a", None, False, slow(b"old"), wait=0.05).body() == b"old"
    cache._local[slot] = press_cache.Built("a", None, cache._local[slot].gz, seconds=1.0)  # big
    release.clear()
    started = time.monotonic()
    served = cache.get(slot, "b", None, False, slow(b"new"), wait=0.05)
    assert served.token == "a" and time.monotonic() - started < 1
    assert cache.get(slot, "b", None, False, slow(b"other"), wait=0.05).token == "a"  # no wait
    release.set()
    deadline = time.monotonic() + 5
    while cache.get(slot, "b", None, False, slow(b"x"), wait=0.05).token != "b":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert cache.get(slot, "b", None, False, slow(b"x"), wait=0.05).body() == b"new"
