"""What every row is stamped with: the time in UTC, and random public identifiers."""
from __future__ import annotations

import base64
import datetime as dt
import secrets
import uuid


def utcnow() -> dt.datetime:
    """Naive UTC: SQLite keeps no zone, so every timestamp is UTC by convention."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def new_list_token() -> str:
    """A letter's list token: random, so no two states of any list share one."""
    return uuid.uuid4().hex


def new_public_id() -> str:
    """A random identifier for links and files: a sequential id would tell who signed when.

    120 bits in lower-case base32: safe in URLs and file names, and never read as a number
    or a formula by a spreadsheet (no leading -, =, + or @).
    """
    return base64.b32encode(secrets.token_bytes(15)).decode("ascii").lower()


def new_nonce() -> str:
    return secrets.token_hex(16)
