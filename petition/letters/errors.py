"""The refusal every letter use case raises, in English for the command line and in the
page's language for the back office."""
from __future__ import annotations


class LetterError(Exception):
    """A letter operation was refused; the message says why.

    The message is an English template with named values: str() gives it in English (the
    command line), translated() in the language of the page. pybabel extracts the templates
    (babel.cfg runs it with -k LetterError).
    """

    def __init__(self, template: str, **values: object) -> None:
        super().__init__(template % values if values else template)
        self.template, self.values = template, values

    def translated(self) -> str:
        from flask_babel import gettext

        return gettext(self.template, **self.values)


class LetterNotFound(LetterError):
    """No letter has that slug."""
