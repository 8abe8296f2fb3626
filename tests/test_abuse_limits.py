"""Limits on the signing path (issue 23): the hard limit's key (IPv6 by /64), silent soft
limits (flagged, neither counted nor listed, confirmed as any other), allow and block rules
applied, throwaway addresses refused, and the minimum time between showing a form and
posting it."""
from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import func, select

from petition import create_app, tokens
from petition.abuse import alerts, limits, rules
from petition.abuse.disposable import is_disposable
from petition.abuse.network import Network, limit_key
from petition.extensions import db
from petition.letters import counting
from petition.models import (
    CONFIRMED,
    MOD_FLAGGED,
    MOD_NONE,
    PENDING,
    Letter,
    OutboxMail,
    Signature,
)
from petition.models.abuse import (
    EVENT_BLOCKED,
    EVENT_COUNTED,
    EVENT_DROPPED,
    EVENT_FLAGGED,
    AbuseEvent,
)
from petition.signatures import moderation
from petition.signatures.invalidation import domain_hash
from petition.views.submission_guard import FIELD
from tests.conftest import base_config
from tests.factories import make_letter
from tests.helpers import confirm_token_from, mails_to, sign_form

SIGN = "/letters/appeal/sign"


@pytest.fixture
def letter(app):
    alerts.forget_known()
    app.config["ABUSE_SOFT_LIMITS_ENABLED"] = True
    return make_letter("appeal")


def person(n: int, domain: str = "example.org", **fields) -> dict:
    return sign_form(**{"signer_type": "individual", "name": f"Person {n}",
                        "email": f"p{n}@{domain}", **fields})


def post(client, data: dict, address: str = "198.51.100.7"):
    return client.post(SIGN, data=data, environ_base={"REMOTE_ADDR": address})


def events() -> list[tuple[str, str | None]]:
    return [(event.outcome, event.reason) for event in
            db.session.scalars(select(AbuseEvent).order_by(AbuseEvent.id))]


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


# --- The hard limit's key ---------------------------------------------------------------------

def test_the_hard_limit_counts_an_ipv4_address_alone_and_an_ipv6_customer_by_its_64():
    assert limit_key("198.51.100.7") == "198.51.100.7"
    assert limit_key("2001:db8:1:2:aaaa::1") == limit_key("2001:db8:1:2:ffff::9") \
        == "2001:db8:1:2::/64"
    assert limit_key("2001:db8:1:3::1") != limit_key("2001:db8:1:2::1")
    assert limit_key("::ffff:198.51.100.7") == "198.51.100.7"
    assert limit_key("not an address") == "not an address"
    assert limit_key(None) == "unknown"


def test_one_ipv6_machine_cannot_multiply_its_allowance_across_its_64(database_url, tmp_path):
    config = base_config(database_url, tmp_path)
    config.update(RATELIMIT_ENABLED=True, RATELIMIT_SIGN="2 per minute")
    app = create_app(config)
    with app.app_context():
        make_letter()
        client = app.test_client()
        codes = [post(client, person(n), f"2001:db8:5:6::{n + 1}").status_code
                 for n in range(3)]
        assert codes == [303, 303, 429]
        # Another /64 (another customer) and an IPv4 NAT are counted apart.
        assert post(client, person(7), "2001:db8:5:7::1").status_code == 303
        refused = post(client, person(8, name="Typed", email="typed@example.org"),
                       "2001:db8:5:6::99")
        assert refused.status_code == 429
        assert 'value="typed@example.org"' in refused.get_data(as_text=True)
        assert count(Signature) == 3
        db.session.remove()
        db.engine.dispose()


def test_the_default_hard_limit_spares_a_conference_room():
    from config import Config

    items = limits.parse(Config.RATELIMIT_SIGN)
    assert min(item.amount * 60 / item.get_expiry() for item in items) >= 30  # a minute


# --- Soft limits ----------------------------------------------------------------------------

def test_past_the_address_limit_a_signature_is_flagged_silently(app, letter, client):
    letter.soft_limits = json.dumps({"address": "3 per 10 minutes"})
    db.session.commit()
    answers = [post(client, person(n)) for n in range(5)]
    assert {(answer.status_code, answer.headers["Location"]) for answer in answers} == {
        (303, "/letters/appeal/check-your-mail")}
    rows = db.session.scalars(select(Signature).order_by(Signature.id)).all()
    assert [(row.moderation, row.flag_reason) for row in rows] == [
        (MOD_NONE, None)] * 3 + [(MOD_FLAGGED, "address-burst")] * 2
    assert all(row.domain_hash == domain_hash("example.org") for row in rows)
    assert events() == [(EVENT_COUNTED, None)] * 3 + [(EVENT_FLAGGED, "address-burst")] * 2
    assert [event.signature_id for event in db.session.scalars(
        select(AbuseEvent).order_by(AbuseEvent.id))] == [row.id for row in rows]
    # Every one mailed alike; confirming a flagged one works and counts nothing.
    for n in range(5):
        [mail] = mails_to(f"p{n}@example.org")
        assert client.post(f"/confirm/{confirm_token_from(mail)}").status_code == 200
    db.session.expire_all()
    assert counting.public_total(letter.id) == 3
    assert counting.table(letter.id) == counting.recount(letter.id)
    flagged = db.session.scalars(select(Signature).where(
        Signature.moderation == MOD_FLAGGED)).all()
    assert [row.status for row in flagged] == [CONFIRMED, CONFIRMED]
    # Waiting in the moderation queue with the reason; approving counts them.
    waiting = moderation.held("appeal")
    assert {(row.name, row.flag_reason) for row in waiting} == {
        ("Person 3", "address-burst"), ("Person 4", "address-burst")}
    page = client.get("/letters/appeal", follow_redirects=True).get_data(as_text=True)
    assert "Person 3" not in page and "Person 2" in page
    moderation.approve("appeal", [row.public_id for row in waiting])
    assert counting.public_total(letter.id) == 5


def test_a_block_and_a_rare_domain_are_limited_a_free_mail_provider_is_not(app, letter, client):
    letter.soft_limits = json.dumps({"address": "off", "block": "4 per 10 minutes",
                                     "domain": "2 per 10 minutes;3 per day"})
    db.session.commit()
    # Real people with gmail.com from many blocks: never the domain limit.
    for n in range(6):
        assert post(client, person(n, "gmail.com"), f"192.0.{n}.1").status_code == 303
    # One rare domain from many blocks: its burst limit.
    for n in range(10, 14):
        post(client, person(n, "bots.example"), f"192.0.{n}.1")
    # One block, other addresses in it, common domains: the block limit.
    for n in range(20, 26):
        post(client, person(n, "outlook.com"), f"203.0.113.{n}")
    reasons = dict(db.session.execute(select(Signature.name, Signature.flag_reason)).all())
    assert [reasons[f"Person {n}"] for n in range(6)] == [None] * 6
    assert [reasons[f"Person {n}"] for n in range(10, 14)] == [None, None, "domain-burst",
                                                               "domain-burst"]
    assert [reasons[f"Person {n}"] for n in range(20, 26)] == [None] * 4 + ["block-burst"] * 2


def test_the_sustained_rate_is_named_apart_from_the_burst(app, letter, client, monkeypatch):
    letter.soft_limits = json.dumps({"domain": "2 per 10 minutes;3 per day"})
    db.session.commit()
    start = time.time()
    for n in range(4):  # one every eleven minutes: never a burst, past the day's three
        monkeypatch.setattr(limits, "utcnow", lambda n=n: _at(start + n * 660))
        post(client, person(n, "bots.example"), f"192.0.{n}.1")
    reasons = [reason for (reason,) in db.session.execute(
        select(Signature.flag_reason).order_by(Signature.id))]
    assert reasons == [None, None, None, "domain-sustained"]


def _at(epoch: float):
    import datetime as dt

    return dt.datetime.fromtimestamp(epoch, dt.UTC).replace(tzinfo=None)


def test_an_allow_rule_skips_the_soft_limits_and_a_block_rule_drops_silently(app, letter,
                                                                            client):
    letter.soft_limits = json.dumps({"address": "1 per 10 minutes"})
    db.session.commit()
    rules.add(letter.id, "domain", "trusted.example", "allow", "org@example.org")
    rules.add(None, "block", Network.of("203.0.113.50").block_hash, "block", "admin")
    for n in range(3):
        assert post(client, person(n, "trusted.example")).status_code == 303
    blocked = post(client, person(9, "gmail.com"), "203.0.113.9")
    assert (blocked.status_code, blocked.headers["Location"]) == (
        303, "/letters/appeal/check-your-mail")
    flags = [row.moderation for row in db.session.scalars(select(Signature))]
    assert flags == [MOD_NONE] * 3
    assert mails_to("p9@gmail.com") == []
    assert events()[-1] == (EVENT_BLOCKED, "rule")


def test_soft_limits_per_letter_from_the_command_line(app, letter):
    runner = app.test_cli_runner()
    done = runner.invoke(args=["letter", "update", "appeal", "--soft-limits",
                               "address=5 per 10 minutes;20 per day, block=off"])
    assert done.exit_code == 0, done.output
    assert "address 5 per 10 minutes;20 per day, block off, domain 100 per 10 minutes" \
        in done.output
    db.session.expire_all()
    assert json.loads(db.session.get(Letter, letter.id).soft_limits) == {
        "address": "5 per 10 minutes;20 per day", "block": "off"}
    for wrong in ("address=lots", "speed=5 per minute", "5 per minute",
                  "domain=0 per minute", "block=5 per 2 years"):
        refused = runner.invoke(args=["letter", "update", "appeal", "--soft-limits", wrong])
        assert refused.exit_code == 2 and "--soft-limits" in refused.output, wrong
    db.session.expire_all()
    assert json.loads(db.session.get(Letter, letter.id).soft_limits)["block"] == "off"
    back = runner.invoke(args=["letter", "update", "appeal", "--soft-limits", "default"])
    assert back.exit_code == 0
    db.session.expire_all()
    assert db.session.get(Letter, letter.id).soft_limits is None


def test_a_failing_storage_flags_nothing(app, letter, client):
    app.config["RATELIMIT_STORAGE_URI"] = "redis://127.0.0.1:1"
    app.config["RATELIMIT_STORAGE_OPTIONS"] = {"socket_connect_timeout": 0.2}
    app.extensions.pop("petition_soft_limits", None)
    letter.soft_limits = json.dumps({"address": "1 per 10 minutes"})
    db.session.commit()
    for n in range(2):
        assert post(client, person(n)).status_code == 303
    assert [row.moderation for row in db.session.scalars(select(Signature))] == [MOD_NONE] * 2


# --- Throwaway addresses -----------------------------------------------------------------

def test_the_disposable_list_spares_privacy_relays():
    for domain in ("mailinator.com", "guerrillamail.com", "yopmail.com", "x.mailinator.com"):
        assert is_disposable(domain), domain
    for domain in ("simplelogin.com", "aleeas.com", "proton.me", "pm.me", "passmail.net",
                   "mozmail.com", "addy.io", "duck.com", "icloud.com",
                   "privaterelay.appleid.com", "gmail.com", "example.org"):
        assert not is_disposable(domain), domain


@pytest.mark.parametrize("lang, words", [("en", "throwaway mail"), ("fr", "jetables"),
                                         ("ru", "одноразов")])
def test_a_throwaway_address_is_refused_with_a_clear_message(app, letter, client, lang, words):
    refused = client.post(f"{SIGN}?lang={lang}", data=person(1, "inbox.mailinator.com"))
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert words in page and 'value="p1@inbox.mailinator.com"' in page
    assert count(Signature) == 0 and count(OutboxMail) == 0
    assert post(client, person(2, "mozmail.com")).status_code == 303


# --- The minimum time -------------------------------------------------------------------------

def stamped(seconds_ago: float) -> str:
    return tokens.form_started_token(int((time.time() - seconds_ago) * 1000))


def test_a_form_posted_too_soon_or_without_its_stamp_is_dropped_as_a_bot(app, letter, client):
    app.config["SIGN_MIN_SECONDS"] = 3
    page = client.get("/letters/appeal", follow_redirects=True).get_data(as_text=True)
    assert f'name="{FIELD}"' in page
    for n, stamp in enumerate([stamped(0.5), None, "forged", tokens.withdraw_token("x")]):
        data = person(n) | ({FIELD: stamp} if stamp is not None else {})
        answer = post(client, data)
        assert (answer.status_code, answer.headers["Location"]) == (
            303, "/letters/appeal/check-your-mail")
    assert count(Signature) == 0 and count(OutboxMail) == 0
    assert events() == [(EVENT_DROPPED, "too-fast")] * 4
    assert post(client, person(9) | {FIELD: stamped(3.5)}).status_code == 303
    assert db.session.scalars(select(Signature.status)).all() == [PENDING]
    # The honeypot, as before, and its event.
    post(client, person(10, website="http://spam.example") | {FIELD: stamped(9)})
    assert count(Signature) == 1 and events()[-1] == (EVENT_DROPPED, "honeypot")
    app.config["SIGN_MIN_SECONDS"] = 0  # off: integrators' suites post at once
    assert post(client, person(11)).status_code == 303
    assert count(Signature) == 2


# --- The drive's letter form: the same guards -----------------------------------------------

def test_the_drive_form_refuses_throwaway_addresses_and_drops_hasty_posts(app, client):
    from petition.models.drive import DriveLetter
    from tests.drive_helpers import LETTER_EN, make_drive

    make_drive()
    write = "/letters/letters-to-azat/write"
    form = {"name": "Marie Dupont", "country": "FR", "language": "en", "body": LETTER_EN,
            "publish": "full", "consent": "y"}
    refused = client.post(f"{write}?lang=fr", data=form | {"email": "m@yopmail.com"})
    assert refused.status_code == 400 and "jetables" in refused.get_data(as_text=True)
    app.config["SIGN_MIN_SECONDS"] = 3
    page = client.get("/letters/letters-to-azat", follow_redirects=True).get_data(as_text=True)
    assert f'name="{FIELD}"' in page
    hasty = client.post(write, data=form | {"email": "m@example.org", FIELD: stamped(1)})
    assert (hasty.status_code, hasty.headers["Location"]) == (
        303, "/letters/letters-to-azat/write/check-your-mail")
    assert count(DriveLetter) == 0 and count(OutboxMail) == 0
    calm = client.post(write, data=form | {"email": "m@example.org", FIELD: stamped(4)})
    assert calm.status_code == 303 and count(DriveLetter) == 1


def test_two_workers_share_the_soft_limits_through_redis(database_url, tmp_path):
    import redis

    from tests.conftest import skip_or_fail

    storage = "redis://127.0.0.1:6379/14"
    try:
        redis.Redis.from_url(storage).flushdb()
    except redis.ConnectionError as error:
        skip_or_fail(f"Redis unreachable: {error}")
    config = base_config(database_url, tmp_path)
    config.update(ABUSE_SOFT_LIMITS_ENABLED=True, RATELIMIT_STORAGE_URI=storage)
    workers = [create_app(config), create_app(config)]
    with workers[0].app_context():
        alerts.forget_known()
        make_letter(soft_limits=json.dumps({"address": "2 per 10 minutes"}))
        for n in range(4):  # in turn, one worker then the other
            assert post(workers[n % 2].test_client(), person(n)).status_code == 303
        assert db.session.scalars(select(Signature.flag_reason).order_by(Signature.id)
                                  ).all() == [None, None, "address-burst", "address-burst"]
        db.session.remove()
    for worker in workers:
        with worker.app_context():
            db.engine.dispose()
    redis.Redis.from_url(storage).flushdb()
