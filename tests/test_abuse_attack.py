"""Issue 23, done when: a scripted attack (one address block and one domain signing far
beyond the defaults, plus a burst from a shared network of real people at a normal pace)
ends with every bot signature flagged and none counted, every real person counted, and an
organiser who saw the trend, invalidated the rest in bulk and could undo it. The site's
defaults throughout (config.py); only the clock of the soft limits moves for the people."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from petition import tokens
from petition.abuse import alerts, limits, trends
from petition.abuse.network import Network
from petition.extensions import db
from petition.letters import counting
from petition.models import MOD_FLAGGED, MOD_INVALID, MOD_NONE, Signature, utcnow
from petition.models.abuse import AbuseAlert
from petition.signatures import invalidation, moderation
from petition.signatures.invalidation import Conditions
from tests.factories import make_letter
from tests.helpers import sign_form

BOTS, PEOPLE = 250, 40
BOT_DOMAIN = "signatures-for-hire.example"
NAT = "192.0.2.77"  # a university's one address: every real person behind it


@pytest.fixture
def letter(app):
    alerts.forget_known()
    app.config["ABUSE_SOFT_LIMITS_ENABLED"] = True
    return make_letter("appeal")


def sign_and_confirm(client, name: str, email: str, address: str) -> None:
    environ = {"REMOTE_ADDR": address}
    answer = client.post("/letters/appeal/sign", environ_base=environ, data=sign_form(
        signer_type="individual", name=name, email=email))
    assert (answer.status_code, answer.headers["Location"]) == (
        303, "/letters/appeal/check-your-mail")
    # Bots read their mail too: every signature is confirmed through its link.
    public_id, nonce = db.session.execute(
        select(Signature.public_id, Signature.token_nonce)
        .where(Signature.name == name)).one()
    token = tokens.confirm_token(public_id, nonce)
    assert client.post(f"/confirm/{token}", environ_base=environ).status_code == 200


def by_kind() -> dict[str, list[str]]:
    db.session.expire_all()
    rows = db.session.execute(select(Signature.name, Signature.moderation)).all()
    found: dict[str, list[str]] = {"bot": [], "person": []}
    for name, state in rows:
        found["bot" if name.startswith("Bot") else "person"].append(state)
    return found


def test_a_scripted_attack_is_flagged_real_people_counted_and_the_rest_undoable(
        app, letter, client, monkeypatch):
    # The bots: one /24, addresses spread over it (no address past its own limit), one
    # domain, as fast as they can.
    for n in range(BOTS):
        sign_and_confirm(client, f"Bot {n}", f"bot{n}@{BOT_DOMAIN}", f"203.0.113.{n % 250 + 1}")
    # Real people behind one NAT address, one every thirty seconds for twenty minutes,
    # with the mail they have (free mail, and their university's own domain).
    start = utcnow()
    domains = ["gmail.com", "orange.fr", "uni-example.fr", "yandex.ru", "outlook.com"]
    for n in range(PEOPLE):
        monkeypatch.setattr(limits, "utcnow", lambda n=n: start + dt.timedelta(seconds=30 * n))
        sign_and_confirm(client, f"Person {n}", f"person{n}@{domains[n % 5]}", NAT)

    # Past the defaults, every bot is flagged (the block's and the domain's burst of 100 in
    # ten minutes); the first hundred, under them, were counted. Every person is counted.
    states = by_kind()
    assert states["person"] == [MOD_NONE] * PEOPLE
    assert states["bot"].count(MOD_FLAGGED) == BOTS - 100
    assert states["bot"].count(MOD_NONE) == 100
    assert counting.public_total(letter.id) == PEOPLE + 100
    reasons = set(db.session.scalars(select(Signature.flag_reason)
                                     .where(Signature.moderation == MOD_FLAGGED)))
    assert reasons == {"block-burst"}  # the block's limit met first, the domain's with it
    assert len(moderation.held("appeal")) == BOTS - 100  # waiting for an organiser

    # The organiser sees the trend: the bots' block and domain, mailed once each.
    bot_block = Network.of("203.0.113.1").block_hash
    seen = trends.trends(letter.id)
    bot_row = next(row for row in seen.blocks if row.value == bot_block)
    assert bot_row.over and bot_row.total == BOTS
    assert (bot_row.counted, bot_row.flagged) == (100, BOTS - 100)
    domain_row = next(row for row in seen.domains if row.value == BOT_DOMAIN)
    assert domain_row.over and domain_row.flagged == BOTS - 100
    assert not any(row.over for row in seen.domains if row.value != BOT_DOMAIN)
    alerted = set(db.session.execute(select(AbuseAlert.kind, AbuseAlert.value)))
    assert {("block", bot_block), ("domain", BOT_DOMAIN)} <= alerted

    # … invalidates the rest in bulk by the domain …
    wanted = Conditions(domain=BOT_DOMAIN)
    assert invalidation.count(letter, wanted) == BOTS
    job = invalidation.start(letter, wanted, "org@example.org", expected=BOTS)
    assert by_kind() == {"bot": [MOD_INVALID] * BOTS, "person": [MOD_NONE] * PEOPLE}
    assert counting.public_total(letter.id) == PEOPLE
    assert counting.table(letter.id) == counting.recount(letter.id)

    # … could undo it (each back as it was) …
    invalidation.undo(job.public_id, "org@example.org")
    states = by_kind()
    assert (states["bot"].count(MOD_NONE), states["bot"].count(MOD_FLAGGED)) == (
        100, BOTS - 100)
    assert counting.public_total(letter.id) == PEOPLE + 100

    # … and ends it by the block the trend named: no bot counted, every person counted.
    invalidation.start(letter, Conditions(block=bot_block), "org@example.org")
    assert by_kind() == {"bot": [MOD_INVALID] * BOTS, "person": [MOD_NONE] * PEOPLE}
    assert counting.public_total(letter.id) == PEOPLE
    assert counting.table(letter.id) == counting.recount(letter.id)
    assert db.session.scalar(select(func.count()).select_from(Signature)) == BOTS + PEOPLE
