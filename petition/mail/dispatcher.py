"""PLACEHOLDER: the mail helper replaces this module."""
from flask import Flask


def init_app(app: Flask) -> None:
    pass
