"""A letter's abuse review: the last 24 hours' trends (address blocks by hash, mail
domains), the alerts mailed, and the allow and block lists, the letter's and the site's.

Organisers given the letter and admins (ORGANISE); the site-wide lists are changed by
admins only. Thin: the rules live in petition/abuse/; every change is audited there.
"""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from petition.abuse import alerts, limits, rules, trends
from petition.admin import bp, current_account
from petition.extensions import db
from petition.models import Letter
from petition.models.abuse import RULE_ACTIONS, RULE_ALLOW, RULE_KINDS

SITE, LETTER = "site", "letter"


def _rule_error(error: rules.RuleError) -> str:
    """The use case's refusal in the reader's language."""
    if error.code == rules.BAD_BLOCK:
        return _("A block is named by its hash as the trends show it: 32 characters, 0-9 "
                 "and a-f.")
    if error.code == rules.NO_RULE:
        return _("There is no such rule.")
    if error.code == rules.NOT_A_DOMAIN:
        return _("This is not a mail domain: %(value)s", value=error.value[:80])
    if error.code == rules.BAD_PATTERN:
        return _("A domain rule is a domain (example.org) or “*.” and a domain "
                 "(*.example.org, its subdomains).")
    return _("Please choose what the rule is about and what it does.")


@bp.route("/letters/<slug>/abuse", endpoint="abuse")
def abuse_page(slug: str):
    return _page(g.letter)


def _page(letter: Letter, error: str | None = None, form: dict | None = None):
    return render_template(
        "admin/abuse.html", letter=letter, trends=trends.trends(letter.id),
        alerts=alerts.alerts(letter.id), letter_rules=rules.listed(letter.id),
        site_rules=rules.listed(None), may_edit_site=current_account().is_admin,
        soft_limits=limits.effective(letter), soft_limits_own=limits.overrides(letter),
        error=error, form=form or {})


@bp.route("/letters/<slug>/abuse/rules", methods=["POST"], endpoint="abuse_rule_add")
def add_rule(slug: str):
    letter: Letter = g.letter
    form = {name: request.form.get(name, "")[:400]
            for name in ("scope", "kind", "value", "action", "note")}
    if form["scope"] not in (SITE, LETTER) or form["kind"] not in RULE_KINDS \
            or form["action"] not in RULE_ACTIONS:
        return _page(letter, _("Please choose what the rule is about and what it does."),
                     form), 400
    site = form["scope"] == SITE
    if site and not current_account().is_admin:
        abort(403)
    try:
        rule = rules.add(None if site else letter.id, form["kind"], form["value"],
                         form["action"], current_account().email, form["note"])
    except rules.RuleError as error:
        db.session.rollback()
        return _page(letter, _rule_error(error), form), 400
    flash(_("Allowed: %(value)s.", value=rule.value) if rule.action == RULE_ALLOW
          else _("Blocked: %(value)s. Its submissions are dropped without a word.",
                 value=rule.value))
    return redirect(url_for("admin.abuse", slug=slug), 303)


@bp.route("/letters/<slug>/abuse/rules/remove", methods=["POST"],
          endpoint="abuse_rule_remove")
def remove_rule(slug: str):
    letter: Letter = g.letter
    site = request.form.get("scope") == SITE
    if site and not current_account().is_admin:
        abort(403)
    rule_id = request.form.get("rule", "")
    try:
        if not rule_id.isdigit():
            raise rules.RuleError(rules.NO_RULE, "There is no such rule.")
        rule = rules.remove_by_id(int(rule_id), None if site else letter.id,
                                  current_account().email)
    except rules.RuleError as error:
        db.session.rollback()
        return _page(letter, _rule_error(error)), 400
    flash(_("Rule removed: %(value)s.", value=rule.value))
    return redirect(url_for("admin.abuse", slug=slug), 303)
