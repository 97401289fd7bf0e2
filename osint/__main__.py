"""``python -m osint``: the same as the ``osint`` command."""

from .cli import app

app(prog_name="osint")
