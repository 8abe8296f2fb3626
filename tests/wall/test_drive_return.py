"""A drive's letter returned to its writer with a note, and the writer's new text: any note
from the back office, any text from the writer. Refused with a message and nothing changed,
or kept as cleaned and shown as text; never a 500."""
from __future__ import annotations

from petition.drive.values import clean_letter_text, unseal
from petition.extensions import db
from petition.models.drive import DriveLetter
from tests.admin_helpers import signed_in_client
from tests.drive_helpers import LETTER_EN, make_drive, writer_token_of, written

from .conftest import assert_no_500, row_counts
from .payloads import SAMPLE, unique_email


def _state(row: DriveLetter) -> tuple:
    db.session.expire_all()
    fresh = db.session.get(DriveLetter, row.id)
    return fresh.status, fresh.body_encrypted and unseal(fresh.body_encrypted), \
        fresh.note_encrypted and unseal(fresh.note_encrypted)


def test_return_note_and_new_text(app):
    make_drive()
    moderator = signed_in_client(app, "root@example.org", "admin", letters=())
    writer = app.test_client()
    returned = edited = 0
    for payload in SAMPLE:
        row = written(email=unique_email("writer"))
        base = f"/admin/letters/letters-to-azat/drive/letters/{row.public_id}"
        before, counts = _state(row), row_counts()
        response = moderator.post(base + "/return?lang=en", data={"note": payload})
        assert_no_500(response)
        if response.status_code >= 400:
            assert _state(row) == before, payload
            assert row_counts() == counts
            continue
        returned += 1
        assert_no_500(moderator.get(base + "?lang=en"))
        token = writer_token_of(row)
        page = writer.get(f"/drive/letter/{token}?lang=en")
        assert page.status_code == 200
        assert_no_500(page)
        for body in (payload, LETTER_EN + payload):
            before, counts = _state(row), row_counts()
            response = writer.post(f"/drive/letter/{token}/edit?lang=en", data={"body": body})
            assert_no_500(response)
            if response.status_code >= 400:
                assert _state(row) == before, body
                assert row_counts() == counts
                continue
            assert response.status_code == 303
            assert _state(row)[1] == clean_letter_text(body)
            edited += 1
            break
    assert returned and edited  # not everything refused: the test reached each step
