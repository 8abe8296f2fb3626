"""The yardstick: bare Flask + Flask-SQLAlchemy, one POST inserting one row and committing.

Run under gunicorn as the app is (`--pythonpath bench bare_app:app`), on the same database
URL (DATABASE_URL) with the same engine options and, on SQLite, the same PRAGMAs the app
sets on each connection (petition/extensions.py `_sqlite_pragmas`); synchronous is left
at its default in both. `python bench/bare_app.py init` creates its table.
"""
from __future__ import annotations

import datetime as dt
import os
import sys

# A deliberately bare comparison app, not part of petition: it reads the request as any Flask app.
from flask import Flask, request  # noqa: TID251
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# The app's own SQLite PRAGMAs (petition/extensions.py `_sqlite_pragmas`, a listener on every
# Engine): imported, not copied, so the yardstick keeps the app's durability settings.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
import petition.extensions  # noqa: E402,F401  (imported for its listener)


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class Row(db.Model):
    __tablename__ = "bare_row"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[dt.datetime]


def _url() -> str:
    url = os.environ["DATABASE_URL"]
    if url.startswith("postgresql://"):
        return url.replace("postgresql://", "postgresql+psycopg://", 1)
    return url


app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = _url()
app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True}  # as config.py
db.init_app(app)


@app.get("/")
def index():
    return "bare"


@app.post("/insert")
def insert():
    db.session.add(Row(name=request.form["name"], email=request.form["email"],
                       created_at=dt.datetime.now(dt.UTC).replace(tzinfo=None)))
    db.session.commit()
    return "inserted", 201


if __name__ == "__main__" and sys.argv[1:] == ["init"]:
    with app.app_context():
        db.create_all()
