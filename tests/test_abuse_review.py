"""Abuse review: events that forget, allow and block lists, trends mailed once."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from petition import addresses
from petition.abuse import alerts, events, rules, trends
from petition.abuse.network import Network, email_domain
from petition.extensions import db
from petition.mail import dispatcher
from petition.mail.outbox import ABUSE_REQUEST
from petition.models import utcnow
from petition.models.abuse import (
    EVENT_BLOCKED,
    EVENT_COUNTED,
    EVENT_FLAGGED,
    RULE_BLOCK,
    RULE_DOMAIN,
    AbuseAlert,
    AbuseEvent,
    AbuseRule,
)
from petition.models.accounts import AuditEvent
from tests.admin_helpers import make_account, signed_in_client
from tests.factories import make_letter
from tests.helpers import outbox, rendered
from tests.smtp_server import smtp_server


@pytest.fixture(autouse=True)
def _fresh_alert_memory():
    alerts.forget_known()  # each test's database is new: so is what was alerted
    yield
    alerts.forget_known()


def _events(letter, address: str, domain: str, number: int, outcome: str = EVENT_COUNTED,
            at: dt.datetime | None = None) -> None:
    network = Network.of(address)
    for _ in range(number):
        event = events.record(letter.id, network, domain, outcome)
        if at is not None:
            event.at = at
    db.session.commit()


# --- Where a submission came from ------------------------------------------------------

def test_ipv4_addresses_share_their_24_block_and_nothing_else(app):
    one, two, other = (Network.of(text) for text in ("203.0.113.7", "203.0.113.200",
                                                     "203.0.114.7"))
    assert one.block_hash == two.block_hash != other.block_hash
    assert one.address_hash != two.address_hash
    assert re.fullmatch(r"[0-9a-f]{32}", one.address_hash)
    assert re.fullmatch(r"[0-9a-f]{32}", one.block_hash)
    assert Network.of("203.0.113.7") == one  # stable
    # Keyed, and by purpose: neither a plain hash nor the address hash of the block.
    assert one.block_hash != addresses.keyed_hash("203.0.113.0/24", "client-address")[:32]


def test_ipv6_addresses_share_their_64_block_and_mapped_ipv4_counts_as_ipv4(app):
    one = Network.of("2001:db8:1:2::1")
    same_64 = Network.of("2001:db8:1:2:ffff::9")
    next_64 = Network.of("2001:db8:1:3::1")
    assert one.block_hash == same_64.block_hash != next_64.block_hash
    assert Network.of("::ffff:203.0.113.9") == Network.of("203.0.113.9")
    assert Network.of("fe80::1%eth0").block_hash == Network.of("fe80::2").block_hash


def test_garbage_still_hashes_stably_to_a_block_of_its_own(app):
    garbage = Network.of("not an address")
    assert garbage == Network.of("not an address")
    assert garbage.block_hash != Network.of("something else").block_hash
    assert Network.of(None) == Network.of("")
    assert re.fullmatch(r"[0-9a-f]{32}", garbage.block_hash)


def test_email_domain_is_the_canonical_addresses_domain(app):
    canonical = addresses.canonical_email("Someone@Bücher.Example.ORG")
    assert email_domain(canonical) == "bücher.example.org"
    assert email_domain("a@EXAMPLE.org") == "example.org"


def test_the_database_never_holds_the_client_address(app, database_url):
    letter = make_letter()
    _events(letter, "198.51.100.77", "mail.example", 3)
    _events(letter, "2001:db8:abcd:12::5", "mail.example", 1)
    stored = db.session.execute(select(AbuseEvent.address_hash, AbuseEvent.block_hash)).all()
    assert len(stored) == 4
    for row in stored:
        assert "198.51.100" not in "".join(row) and "2001:db8" not in "".join(row)
    if database_url.startswith("sqlite"):
        db.session.remove()
        db.engine.dispose()
        path = database_url.removeprefix("sqlite:///")
        content = b"".join(Path(path + suffix).read_bytes() for suffix in ("", "-wal")
                           if Path(path + suffix).exists())
        assert b"mail.example" in content  # what is kept is there to find...
        assert b"198.51.100" not in content and b"2001:db8" not in content  # ...not this


# --- Forgetting ------------------------------------------------------------------------

def test_forget_deletes_old_events_and_alerts_only(app):
    letter = make_letter()
    now = utcnow()
    _events(letter, "192.0.2.1", "old.example", 2, at=now - dt.timedelta(hours=49))
    _events(letter, "192.0.2.1", "new.example", 3, at=now - dt.timedelta(hours=47))
    db.session.add_all([
        AbuseAlert(letter_id=letter.id, kind=RULE_DOMAIN, value="old.example", count=2,
                   at=now - dt.timedelta(hours=49)),
        AbuseAlert(letter_id=letter.id, kind=RULE_DOMAIN, value="new.example", count=3,
                   at=now - dt.timedelta(hours=47))])
    db.session.commit()
    assert events.forget(now) == 2
    assert sorted(db.session.scalars(select(AbuseEvent.email_domain))) == ["new.example"] * 3
    assert list(db.session.scalars(select(AbuseAlert.value))) == ["new.example"]
    app.config["ABUSE_EVENT_HOURS"] = 1
    assert events.forget(now) == 3


def test_the_workers_hourly_pass_forgets_events(app):
    from petition.worker import DispatchLoop

    letter = make_letter()
    _events(letter, "192.0.2.1", "old.example", 1, at=utcnow() - dt.timedelta(hours=72))
    DispatchLoop(app, interval=0).run(max_loops=1)
    db.session.expire_all()
    assert db.session.scalar(select(AbuseEvent.id)) is None


# --- Allow and block lists -------------------------------------------------------------

@pytest.mark.parametrize(("typed", "stored"), [
    ("Example.ORG", "example.org"),
    ("*.Example.org.", "*.example.org"),
    (" bücher.example ", "bücher.example"),
    ("*.xn--bcher-kva.example", "*.bücher.example"),
])
def test_domain_patterns_are_stored_in_one_form(app, typed, stored):
    assert rules.normalize_domain_pattern(typed) == stored


@pytest.mark.parametrize("typed", ["", "*", "*.", "a.*.org", "user@example.org", "localhost",
                                   "exa mple.org", "-bad-.org",
                                   "*." + ".".join(["a" * 61] * 3 + ["a" * 62]) + ".org"])
def test_bad_domain_patterns_are_refused(app, typed):
    with pytest.raises(rules.RuleError):
        rules.normalize_domain_pattern(typed)


@pytest.mark.parametrize("typed", ["", "abc", "g" * 32, "a" * 31, "a" * 33, "192.0.2.0/24"])
def test_a_block_is_named_by_its_32_hex_hash(app, typed):
    with pytest.raises(rules.RuleError):
        rules.normalize_block(typed)
    assert rules.normalize_block("AB" * 16) == "ab" * 16


def test_verdict_wildcards_scopes_and_block_over_allow(app):
    letter = make_letter()
    other = make_letter("other")
    bad = Network.of("203.0.113.5").block_hash
    rules.add(None, RULE_DOMAIN, "*.spam.example", "block", "test")
    rules.add(None, RULE_DOMAIN, "uni.example", "allow", "test")
    rules.add(letter.id, RULE_DOMAIN, "ok.spam.example", "allow", "test")
    rules.add(letter.id, RULE_BLOCK, bad, "block", "test")
    db.session.commit()

    # "*.x" takes the subdomains only; "x" the domain only.
    assert rules.verdict(other.id, "a.spam.example", None) == "block"
    assert rules.verdict(other.id, "a.b.spam.example", None) == "block"
    assert rules.verdict(other.id, "spam.example", None) is None
    assert rules.verdict(other.id, "uni.example", None) == "allow"
    assert rules.verdict(other.id, "x.uni.example", None) is None
    # The letter's own rules come first...
    assert rules.verdict(letter.id, "ok.spam.example", None) == "allow"
    assert rules.verdict(other.id, "ok.spam.example", None) == "block"
    # ...and within one scope, a block wins over an allow.
    assert rules.verdict(letter.id, "ok.spam.example", bad) == "block"
    assert rules.verdict(other.id, "uni.example", bad) == "allow"
    assert rules.verdict(letter.id, None, None) is None


def test_a_rule_is_one_per_scope_and_value_and_removed_by_value(app):
    letter = make_letter()
    rules.add(letter.id, RULE_DOMAIN, "Spam.example", "block", "a@example.org")
    rules.add(letter.id, RULE_DOMAIN, "spam.example", "allow", "b@example.org")
    listed = rules.listed(letter.id)
    assert [(rule.value, rule.action) for rule in listed] == [("spam.example", "allow")]
    assert rules.listed(None) == []
    with pytest.raises(rules.RuleError):
        rules.remove(letter.id, RULE_DOMAIN, "spam.example", "c@example.org", "block")
    with pytest.raises(rules.RuleError):
        rules.remove(None, RULE_DOMAIN, "spam.example", "c@example.org")
    rules.remove(letter.id, RULE_DOMAIN, "SPAM.example", "c@example.org", "allow")
    assert db.session.scalar(select(AbuseRule.id)) is None
    assert [(event.actor, event.action, event.letter_slug, event.detail) for event in
            db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))] == [
        ("a@example.org", "abuse.rule_add", "appeal", "letter block domain spam.example"),
        ("b@example.org", "abuse.rule_add", "appeal", "letter allow domain spam.example"),
        ("c@example.org", "abuse.rule_remove", "appeal", "letter allow domain spam.example")]


# --- Trends ----------------------------------------------------------------------------

def test_trends_count_blocks_and_domains_per_hour_with_outcomes(app):
    letter = make_letter()
    app.config["ABUSE_TREND_BLOCK_PER_HOUR"] = 5
    app.config["ABUSE_TREND_DOMAIN_PER_HOUR"] = 8
    # Half past an hour already gone: the events 5 and 10 minutes before it share its clock
    # hour whenever the test runs (at ten past, "now" would split them).
    now = _hour(utcnow()) - dt.timedelta(minutes=30)
    _events(letter, "203.0.113.1", "mail.example", 4, at=now - dt.timedelta(minutes=5))
    _events(letter, "203.0.113.2", "mail.example", 2, EVENT_FLAGGED,
            at=now - dt.timedelta(minutes=10))
    _events(letter, "198.51.100.1", "uni.example", 1, at=now - dt.timedelta(hours=3))
    _events(letter, "198.51.100.1", "uni.example", 1, EVENT_BLOCKED,
            at=now - dt.timedelta(hours=5))
    _events(letter, "192.0.2.1", "old.example", 9, at=now - dt.timedelta(hours=30))

    found = trends.trends(letter.id, now=now)
    assert found.total == 8
    busy = Network.of("203.0.113.99").block_hash
    assert [row.value for row in found.blocks] == [busy, Network.of("198.51.100.9").block_hash]
    top = found.blocks[0]
    assert (top.total, top.last_hour, top.peak, top.over) == (6, 6, 6, True)
    assert (top.counted, top.flagged, top.blocked) == (4, 2, 0)
    quiet = found.blocks[1]
    assert (quiet.total, quiet.last_hour, quiet.peak, quiet.over, quiet.blocked) == \
        (2, 0, 1, False, 1)
    hour = dt.timedelta(hours=1)
    assert sorted(quiet.hourly) == [_hour(now - 5 * hour), _hour(now - 3 * hour)]
    assert list(quiet.hourly.values()) == [1, 1]
    assert [(row.value, row.total, row.over) for row in found.domains] == \
        [("mail.example", 6, False), ("uni.example", 2, False)]
    assert found.usual[RULE_BLOCK] in (1.0, 3.5, 6.0)
    assert trends.trends(letter.id, hours=48, now=now).total == 17
    assert trends.trends(make_letter("other").id, now=now).blocks == []


def _hour(at: dt.datetime) -> dt.datetime:
    return at.replace(minute=0, second=0, microsecond=0)


# --- Alerts, mailed once ---------------------------------------------------------------

def test_an_alert_is_recorded_and_mailed_once(app):
    letter = make_letter(lang="en", title="Free him")
    make_account("org@example.org", "organiser", ("appeal",))
    make_account("admin@example.org", "admin", ("appeal",))
    make_account("press@example.org", "press", ("appeal",))
    app.config["ABUSE_TREND_BLOCK_PER_HOUR"] = 3
    network = Network.of("203.0.113.1")
    recorded = []
    for _ in range(5):
        events.record(letter.id, network, "example.org", EVENT_COUNTED)
        recorded.append(alerts.check_and_alert(letter.id, network.block_hash, "example.org"))
        db.session.commit()
    assert recorded == [0, 0, 1, 0, 0]
    alerts.forget_known()  # another process, which knows nothing: still one alert
    assert alerts.check_and_alert(letter.id, network.block_hash, "example.org") == 0
    assert alerts.check_and_alert(letter.id) == 0
    db.session.commit()
    [alert] = db.session.scalars(select(AbuseAlert)).all()
    assert (alert.kind, alert.value, alert.count) == (RULE_BLOCK, network.block_hash, 3)
    assert len(outbox(ABUSE_REQUEST)) == 1

    assert alerts.expand_requests() == 1
    assert alerts.expand_requests() == 0
    mails = outbox(alerts.ABUSE_MAIL)
    assert sorted(addresses.decrypt(mail.recipient_encrypted) for mail in mails) == \
        ["admin@example.org", "org@example.org"]
    content = rendered(mails[0])
    assert content.subject == "Unusual signing on “Free him”"
    assert network.block_hash in content.text and " 3 " in content.text
    assert "http://localhost/admin/letters/appeal/abuse" in content.text
    assert content.html is not None and network.block_hash in content.html


def test_a_domain_alert_in_french_goes_through_smtp(app):
    letter = make_letter(lang="fr", title="Libérez-le")
    make_account("org@example.org", "organiser", ("appeal",))
    app.config["ABUSE_TREND_DOMAIN_PER_HOUR"] = 2
    _events(letter, "203.0.113.1", "mail.example", 1)
    _events(letter, "198.51.100.1", "mail.example", 1)
    assert alerts.check_and_alert(letter.id) == 1
    db.session.commit()
    with smtp_server() as server:
        app.config["MAIL_URL"] = f"smtp://127.0.0.1:{server.port}"
        dispatcher.dispatch(limit=None)
    [received] = server.received
    assert received.rcpt_tos == ["org@example.org"]
    assert received.message["Subject"] == "Signatures inhabituelles sur « Libérez-le »"
    body = received.message.get_body(("plain",)).get_content()
    assert "mail.example" in body and "/admin/letters/appeal/abuse" in body
    assert [mail.status for mail in outbox(alerts.ABUSE_MAIL)] == ["sent"]


# --- The command line ------------------------------------------------------------------

def test_cli_trends_print_blocks_and_domains_with_counts(app, runner):
    letter = make_letter()
    app.config["ABUSE_TREND_BLOCK_PER_HOUR"] = 3
    _events(letter, "203.0.113.1", "mail.example", 3)
    _events(letter, "203.0.113.2", "mail.example", 1, EVENT_FLAGGED)
    _events(letter, "2001:db8::1", "uni.example", 1, EVENT_BLOCKED)
    result = runner.invoke(args=["abuse", "trends", "appeal", "--hours", "2"])
    assert result.exit_code == 0, result.output
    busy = Network.of("203.0.113.0").block_hash
    assert "appeal: 5 submissions in the last 2 h" in result.output
    assert (f"  {busy}  total 4  last hour 4  peak 4  counted 3  flagged 1  blocked 0  TREND"
            in result.output)
    assert "  mail.example  total 4" in result.output
    assert "  uni.example  total 1  last hour 1  peak 1  counted 0  flagged 0  blocked 1\n" \
        in result.output
    assert "203.0.113" not in result.output
    missing = runner.invoke(args=["abuse", "trends", "nope"])
    assert missing.exit_code == 1 and "nope" in missing.output


def test_cli_block_unblock_allow_disallow_and_rules(app, runner):
    letter = make_letter()
    block = Network.of("203.0.113.1").block_hash
    result = runner.invoke(args=["abuse", "block", "--block", block.upper(), "--letter",
                                 "appeal", "--note", "bulk signing"])
    assert result.exit_code == 0, result.output
    assert f"block: block {block} for letter appeal." in result.output
    assert runner.invoke(args=["abuse", "allow", "--domain", "*.Uni.example"]).exit_code == 0
    assert rules.verdict(letter.id, "mail.uni.example", block) == "block"
    assert rules.verdict(letter.id, "mail.uni.example", None) == "allow"

    listed = runner.invoke(args=["abuse", "rules", "--letter", "appeal"]).output
    assert f"appeal  block  block  {block}  by cli  (bulk signing)" in listed
    assert "site-wide  allow  domain  *.uni.example  by cli" in \
        runner.invoke(args=["abuse", "rules"]).output

    # Unblocking an allow rule, or a rule that is not there, is refused.
    refused = runner.invoke(args=["abuse", "unblock", "--domain", "*.uni.example"])
    assert refused.exit_code == 1 and "There is no such rule." in refused.output
    bad = runner.invoke(args=["abuse", "block", "--block", "192.0.2.0/24"])
    assert bad.exit_code == 1 and "32 characters" in bad.output
    both = runner.invoke(args=["abuse", "block", "--block", block, "--domain", "x.example"])
    assert both.exit_code == 2 and "Give one of --domain D or --block HASH." in both.output
    assert runner.invoke(args=["abuse", "disallow", "--domain", "*.uni.example"]).exit_code == 0
    assert runner.invoke(args=["abuse", "unblock", "--block", block, "--letter",
                               "appeal"]).exit_code == 0
    assert runner.invoke(args=["abuse", "rules"]).output == "site-wide: no rules.\n"
    assert db.session.scalar(select(AbuseRule.id)) is None
    actions = [(event.actor, event.action) for event in
               db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions == [("cli", "abuse.rule_add"), ("cli", "abuse.rule_add"),
                       ("cli", "abuse.rule_remove"), ("cli", "abuse.rule_remove")]


# --- The back office -------------------------------------------------------------------

def test_the_abuse_page_is_for_the_letters_organisers_and_admins(app):
    letter = make_letter()
    make_letter("other")
    _events(letter, "203.0.113.1", "mail.example", 2)
    organiser = signed_in_client(app)
    page = organiser.get("/admin/letters/appeal/abuse")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert Network.of("203.0.113.1").block_hash in html and "mail.example" in html
    assert 'value="site"' not in html  # the site's lists: admins only
    assert "/admin/letters/appeal/abuse" in organiser.get("/admin/letters/appeal").get_data(
        as_text=True)
    assert organiser.get("/admin/letters/other/abuse").status_code == 404
    press = signed_in_client(app, "press@example.org", "press")
    assert press.get("/admin/letters/appeal/abuse").status_code == 403
    assert app.test_client().get("/admin/letters/appeal/abuse").status_code == 302
    admin = signed_in_client(app, "admin@example.org", "admin", ())
    assert 'value="site"' in admin.get("/admin/letters/other/abuse").get_data(as_text=True)


def test_the_abuse_page_adds_and_removes_rules_audited(app):
    letter = make_letter()
    block = Network.of("203.0.113.1").block_hash
    organiser = signed_in_client(app)
    done = organiser.post("/admin/letters/appeal/abuse/rules", data={
        "scope": "letter", "kind": "block", "value": block, "action": "block"})
    assert done.status_code == 303
    assert rules.verdict(letter.id, None, block) == "block"
    page = organiser.get("/admin/letters/appeal/abuse").get_data(as_text=True)
    assert "Its submissions are dropped without a word." in page
    # Refused with a reason, nothing written.
    bad = organiser.post("/admin/letters/appeal/abuse/rules", data={
        "scope": "letter", "kind": "domain", "value": "not a domain", "action": "allow"})
    assert bad.status_code == 400 and "This is not a mail domain" in bad.get_data(as_text=True)
    odd = organiser.post("/admin/letters/appeal/abuse/rules", data={"scope": "x"})
    assert odd.status_code == 400
    # The site's lists: admins only.
    assert organiser.post("/admin/letters/appeal/abuse/rules", data={
        "scope": "site", "kind": "domain", "value": "spam.example",
        "action": "block"}).status_code == 403
    admin = signed_in_client(app, "admin@example.org", "admin", ())
    assert admin.post("/admin/letters/appeal/abuse/rules", data={
        "scope": "site", "kind": "domain", "value": "spam.example",
        "action": "block"}).status_code == 303
    site_rule = db.session.scalar(select(AbuseRule).where(AbuseRule.letter_id.is_(None)))
    assert organiser.post("/admin/letters/appeal/abuse/rules/remove",
                          data={"scope": "site", "rule": site_rule.id}).status_code == 403
    # A site rule cannot be removed as if it were the letter's.
    assert organiser.post("/admin/letters/appeal/abuse/rules/remove",
                          data={"scope": "letter", "rule": site_rule.id}).status_code == 400
    letter_rule = db.session.scalar(select(AbuseRule).where(AbuseRule.letter_id == letter.id))
    assert organiser.post("/admin/letters/appeal/abuse/rules/remove",
                          data={"scope": "letter", "rule": letter_rule.id}).status_code == 303
    assert admin.post("/admin/letters/appeal/abuse/rules/remove",
                      data={"scope": "site", "rule": site_rule.id}).status_code == 303
    assert organiser.post("/admin/letters/appeal/abuse/rules/remove",
                          data={"scope": "letter", "rule": "x"}).status_code == 400
    assert db.session.scalar(select(AbuseRule.id)) is None
    audited = [(event.actor, event.action, event.letter_slug) for event in db.session.scalars(
        select(AuditEvent).where(AuditEvent.action.startswith("abuse"))
        .order_by(AuditEvent.id))]
    assert audited == [("org@example.org", "abuse.rule_add", "appeal"),
                       ("admin@example.org", "abuse.rule_add", None),
                       ("org@example.org", "abuse.rule_remove", "appeal"),
                       ("admin@example.org", "abuse.rule_remove", None)]


def test_the_privacy_notice_states_how_long_abuse_review_keeps_its_hashes(app, client):
    app.config["ABUSE_EVENT_HOURS"] = 12
    page = client.get("/privacy?lang=en").get_data(as_text=True)
    assert "for at most 13 hours, a keyed fingerprint of it and of its network" in page
    french = client.get("/privacy?lang=fr").get_data(as_text=True)
    assert "au plus 13 heures une empreinte à clé" in french
