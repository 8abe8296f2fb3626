"""The sign form in Chromium: no signer type chosen in advance; the display choice appears
for individuals only, without JavaScript (display: none also keeps it out of the tab order)."""
import pytest

from petition.letters import operations as letters

pytestmark = [pytest.mark.e2e, pytest.mark.sqlite_only]


def test_display_choice_follows_the_signer_type_without_javascript(live_app, browser):
    with live_app.app_context():
        letters.create_letter("appeal", lang="fr", title="Libérez le mathématicien")
    context = browser.new_context(locale="en-GB", java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{live_app.config['BASE_URL']}/letters/appeal")
        assert not page.is_checked("input[name=signer_type][value=organization]")
        assert not page.is_checked("input[name=signer_type][value=individual]")
        display = page.locator("fieldset.display-choice")
        assert not display.is_visible()
        page.check("input[name=signer_type][value=individual]")
        assert display.is_visible()
        assert display.locator("legend").inner_text().startswith("Show my name")
        page.check("input[name=signer_type][value=organization]")
        assert not display.is_visible()
    finally:
        context.close()
