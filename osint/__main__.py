"""The ``osint`` command's entry point: the console script and ``python -m osint``.

The garbage collector is held off while the command's modules load and those modules'
objects are then frozen out of it (:func:`gc.freeze`). Loading creates some hundred
thousand long-lived objects (pydantic's validators, typer's and rich's tables), and
the collector otherwise walks them again and again while they load and once more when
the interpreter exits: together about a third of a re-run of ``osint collect`` that
finds nothing new (measured in bench/results-hosts.md). They live for the whole process
anyway; what the command creates afterwards is collected as usual.
"""

from __future__ import annotations

import gc


def main() -> None:
    """Run the ``osint`` command line."""
    gc.disable()
    try:
        from .cli import app
    finally:
        gc.freeze()
        gc.enable()
    app(prog_name="osint")


if __name__ == "__main__":
    main()
