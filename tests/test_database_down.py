"""A database that is down (PostgreSQL restarting) answers a clean 503 page, not a 500."""
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError

from petition.extensions import db
from petition.models import Letter
from tests.test_health import UNREACHABLE, make_app


@pytest.mark.parametrize("backend", sorted(UNREACHABLE))
def test_letter_page_answers_a_503_page(tmp_path, backend, caplog):
    app = make_app(UNREACHABLE[backend], tmp_path)
    with app.app_context():
        client = app.test_client()
        page = client.get("/letters/appeal?lang=fr")
        sign = client.post("/letters/appeal/sign", data={"name": "Campagne #FREE120"})
        db.session.remove()
        db.engine.dispose()
    for response in (page, sign):
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "30"
        assert response.headers["Cache-Control"] == "no-store"
        assert "Traceback" not in response.get_data(as_text=True)
    assert "<h1>Réessayez dans un instant</h1>" in page.get_data(as_text=True)  # lang=fr
    assert "database unavailable: OperationalError" in caplog.text


def test_the_request_is_rolled_back_and_its_values_not_logged(app, client, caplog):
    def lose_connection():
        # Half a change in the session when the server goes away mid-request.
        db.session.add(Letter(slug="half-saved", status="open", default_lang="fr"))
        db.session.flush()
        raise OperationalError("INSERT INTO signature (name) VALUES (%(name)s)",
                               {"name": "Secret Signer"},
                               Exception("server closed the connection unexpectedly"))

    app.add_url_rule("/lose-connection", "lose_connection", lose_connection)
    response = client.get("/lose-connection")
    assert response.status_code == 503
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Letter)) == 0
    assert "database unavailable: Exception: server closed the connection" in caplog.text
    assert "Secret Signer" not in caplog.text and "INSERT" not in caplog.text


def test_other_database_errors_stay_server_errors(app, client):
    """An IntegrityError is a bug, not an outage: no 'try again in a moment'."""
    def broken():
        raise IntegrityError("INSERT", {}, Exception("duplicate key"))

    app.add_url_rule("/broken", "broken", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/broken")
    assert response.status_code == 500
    assert "Try again in a moment" not in response.get_data(as_text=True)
