"""Writing a job's output files: whole or not at all, and failures as :class:`ReportError`.

Files are written to a temporary file beside the target and moved over it with
``os.replace``, so a reader never sees half a report and a failed rebuild keeps the
previous one. Every write or template failure of a job passes :func:`report_errors`,
so the CLI prints one line and no traceback.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import ReportError


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` so ``path`` is either the old file or the whole new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def report_errors(where: Path) -> Iterator[None]:
    """Turn the block's I/O and template failures into one-line :class:`ReportError`s."""
    import jinja2  # only the jobs that render get here

    try:
        yield
    except OSError as exc:
        name = exc.filename or where
        raise ReportError(f"cannot write to {name}: {exc.strerror or exc}") from exc
    except jinja2.TemplateError as exc:
        raise ReportError(f"cannot render the report: {type(exc).__name__}: {exc}") from exc
