"""A posted form -> an editorial op: the names of form fields, and item ids turned into URLs.

Forms name items by their id in the store (short, and what the page shows); the op
names them by URL, which is what an edit is keyed to. Citations of an assessment may
be given as annex numbers (``3, 5``) or item ids (``#12``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from pydantic import ValidationError

from ..edits import Op, parse_op
from ..errors import ReviewError
from ..jobs.desk import DraftView

_FIELDS = ("op", "url", "reason", "bucket", "title", "position", "pinned", "original", "text", "section")


def op_from_form(form: Mapping[str, str], view: DraftView) -> Op:
    data: dict[str, object] = {k: form[k] for k in _FIELDS if k in form and form[k] != ""}
    for field, target in (("item", "url"), ("into_item", "into"), ("to_item", "to")):
        if form.get(field):
            data[target] = _item_url(form[field], view)
    if "confirmed" in form:
        data["confirmed"] = form["confirmed"] in ("1", "on", "true", "yes")
    if "pinned" in data:
        data["pinned"] = data["pinned"] in ("1", "on", "true", "yes")
    if form.get("cites"):
        data["urls"] = _cited_urls(form["cites"], view)
    try:
        return parse_op(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"][1:] or first["loc"])
        raise ReviewError(f"{data.get('op', 'edit')}: {where}: {first['msg']}") from None


def _item_url(value: str, view: DraftView) -> str:
    text = value.strip().lstrip("#")
    if not text.isdigit() or int(text) not in view.all_items:
        raise ReviewError(f"no item #{text} in this period")
    return view.all_items[int(text)].url


def _cited_urls(value: str, view: DraftView) -> list[str]:
    annex = {a.number: a.url for a in view.report.annex}
    urls = []
    for part in re.split(r"[\s,;]+", value.strip()):
        if not part:
            continue
        if part.startswith("#"):
            urls.append(_item_url(part, view))
        elif part.strip("[]").isdigit() and int(part.strip("[]")) in annex:
            urls.append(annex[int(part.strip("[]"))])
        else:
            raise ReviewError(f"citation {part!r}: give annex numbers (3) or item ids (#12)")
    return urls
