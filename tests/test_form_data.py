"""Text fields sent as files or JSON values: the usual 400 form with its messages, nothing
stored."""
import io

import pytest
from sqlalchemy import func, select

from petition.extensions import db
from petition.models import OutboxMail, Signature
from tests.factories import make_letter
from tests.helpers import sign_form

# The message each required field shows when it arrives empty.
REQUIRED = {
    "name": "Please give the name to sign with.",
    "country": "Please choose a country or a region.",
    "email": "Please give your email address.",
    "consent": "Please agree to the privacy notice to sign.",
}


def stored() -> tuple[int, int]:
    db.session.expire_all()
    return (db.session.scalar(select(func.count()).select_from(Signature)),
            db.session.scalar(select(func.count()).select_from(OutboxMail)))


@pytest.mark.parametrize("field", sorted(REQUIRED))
def test_required_field_as_a_file_is_refused_with_its_message(client, app, field):
    make_letter()
    data = sign_form()
    data[field] = (io.BytesIO(data[field].encode()), "field.txt", "text/plain")
    response = client.post("/letters/appeal/sign?lang=en", data=data,
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert REQUIRED[field] in response.get_data(as_text=True)
    assert stored() == (0, 0)


def test_optional_field_as_a_file_is_ignored(client, app):
    """What a file part carries never becomes a name, an affiliation or a choice."""
    make_letter()
    data = sign_form(affiliation="ignored")
    data["affiliation"] = (io.BytesIO(b"Uploaded affiliation"), "affiliation.txt")
    data["display"] = (io.BytesIO(b"anonymous"), "display.txt")
    response = client.post("/letters/appeal/sign", data=data, content_type="multipart/form-data")
    assert response.status_code == 303
    signature = db.session.scalar(select(Signature))
    assert (signature.affiliation, signature.display) == (None, "full")


def test_multipart_form_without_files_still_signs(client, app):
    make_letter()
    response = client.post("/letters/appeal/sign", data=sign_form(),
                           content_type="multipart/form-data")
    assert response.status_code == 303
    assert stored() == (1, 1)


@pytest.mark.parametrize("value", [123, None, {"first": "x"}, True],
                         ids=["number", "null", "object", "boolean"])
def test_json_values_that_are_not_text_are_refused(client, app, value):
    """Flask-WTF also reads JSON bodies: a number or an object is no name either."""
    make_letter()
    data = sign_form()
    data["name"] = value
    response = client.post("/letters/appeal/sign?lang=en", json=data)
    assert response.status_code == 400
    assert REQUIRED["name"] in response.get_data(as_text=True)
    assert stored() == (0, 0)
