"""Every correction of the editorial layer, through the desk's API and forms, on the demo week.

One test per kind of correction (exclude an item or a story, merge, move an item, set a
story's primary bucket, rename, reorder, pin and drop developments, edit a sentence,
the analyst's own paragraph, undo), each checking the draft the desk then serves — the
same ``report.json`` approval writes. Wording the sources do not support is flagged
(names and numbers apart) and needs the analyst's confirmation, in the API and in the
page's forms. The rendered formats mark analyst text apart and say who approved.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Any

from osint.review import ReviewLog
from osint.store import Store

from .deskfixtures import (
    EDITOR,
    PERIOD,
    VIEWER,
    Desk,
    desk,  # noqa: F401  (fixture)
    desk_world,  # noqa: F401  (fixture)
    sentences_of,
)

EDITS = f"/api/reports/{PERIOD}/edits"


def _post(desk: Desk, *ops: dict[str, Any]) -> Any:
    return desk.api("POST", EDITS, desk.editor_token, json={"edits": list(ops)})


def _ok(desk: Desk, *ops: dict[str, Any]) -> list[int]:
    r = _post(desk, *ops)
    assert r.status_code == 200, r.text
    ids = r.json()["ids"]
    assert isinstance(ids, list)
    return ids


def _dev_urls(doc: dict[str, Any]) -> list[str]:
    """Each development named by the first item it cites (what an edit may name it by)."""
    return [d["sources"][0]["url"] for d in doc["developments"]]


def _clusters(doc: dict[str, Any]) -> dict[str, str]:
    return {i["url"]: i["cluster"] for i in doc["items"]}


def _members(doc: dict[str, Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for url, cluster in _clusters(doc).items():
        out.setdefault(cluster, []).append(url)
    return out


def test_exclude_story_takes_all_its_items_out_and_needs_a_reason(desk: Desk) -> None:
    doc = desk.report()
    dev = doc["developments"][1]
    members = _members(doc)[dev["story_id"]]
    assert len(members) >= 2, "the second development's story has several items"
    assert _post(desk, {"op": "exclude_story", "url": members[0]}).status_code == 400
    _ok(desk, {"op": "exclude_story", "url": members[-1], "reason": "not a security matter"})
    after = desk.report()
    assert not set(members) & set(_clusters(after))
    assert not set(members) & {a["url"] for a in after["annex"]}
    assert dev["title"] not in [d["title"] for d in after["developments"]]
    assert len(after["items"]) == len(doc["items"]) - len(members)


def test_merge_folds_one_story_into_another(desk: Desk) -> None:
    doc = desk.report()
    first, second = doc["developments"][0], doc["developments"][1]
    into = _members(doc)[first["story_id"]]
    moving = _members(doc)[second["story_id"]]
    _ok(desk, {"op": "merge_stories", "url": moving[0], "into": into[0]})
    after = desk.report()
    clusters = _clusters(after)
    assert len({clusters[u] for u in into + moving}) == 1
    assert len(after["developments"]) <= len(doc["developments"])
    assert second["title"] not in [d["title"] for d in after["developments"]]


def test_move_item_takes_one_item_into_another_story(desk: Desk) -> None:
    doc = desk.report()
    members = _members(doc)
    source = next(m for m in members.values() if len(m) >= 3)
    target = next(m for m in members.values() if m is not source)
    moved, staying = source[0], source[1:]
    _ok(desk, {"op": "move_item", "url": moved, "to": target[0]})
    clusters = _clusters(desk.report())
    assert clusters[moved] == clusters[target[0]]
    assert clusters[staying[0]] != clusters[moved]
    assert len({clusters[u] for u in staying}) == 1
    # a target that is not an item of the period is refused, naming it
    r = _post(desk, {"op": "move_item", "url": staying[0], "to": "https://nowhere.example/x"})
    assert r.status_code == 400 and "not an item" in r.json()["error"]


def _named_by(desk: Desk, edit_id: int) -> str:
    """The URL a recorded edit names its development by (the desk resolves a place to it)."""
    with Store.open(desk.settings.db) as store:
        start, end = (date.fromisoformat(d) for d in PERIOD.split("_"))
        edit = next(e for e in ReviewLog(store).edits(start, end) if e.id == edit_id)
    url = getattr(edit.op, "url", None)
    assert isinstance(url, str)
    return url


def test_a_rename_outlives_the_later_exclusion_of_its_headline_item(desk: Desk) -> None:
    """The desk names a renamed development by its headline item; excluding that item
    afterwards leaves the story's other items, and they keep the analyst's headline."""
    doc = desk.report()
    k, dev = next((k, d) for k, d in enumerate(doc["developments"]) if len(_members(doc)[d["story_id"]]) >= 2)
    rename = _ok(desk, {"op": "rename_development", "development": k, "title": "Named by the analyst"})[0]
    headline = _named_by(desk, rename)
    assert headline in _members(doc)[dev["story_id"]]
    _ok(desk, {"op": "exclude_item", "url": headline, "reason": "a copy of another outlet's report"})
    after = desk.report()
    renamed = [d for d in after["developments"] if d["title"] == "Named by the analyst"]
    assert len(renamed) == 1, [d["title"] for d in after["developments"]]
    remaining = set(_members(doc)[dev["story_id"]]) - {headline}
    assert set(_members(after)[renamed[0]["story_id"]]) == remaining
    assert headline not in _clusters(after)


def test_a_renamed_story_merged_with_another_takes_the_latest_headline(desk: Desk) -> None:
    """Merged, two developments are one, and the analyst's latest headline for either heads
    it (the one renamed first was merged into the other); undoing that rename brings back
    the one before."""
    doc = desk.report()
    a, b = doc["developments"][0], doc["developments"][1]
    title = "Headline the analyst wrote"
    (first,) = _ok(desk, {"op": "rename_development", "development": 0, "title": title})
    moving, into = _members(doc)[a["story_id"]], _members(doc)[b["story_id"]]
    _ok(desk, {"op": "merge_stories", "url": moving[0], "into": into[0]})
    after = desk.report()
    merged = [d for d in after["developments"] if d["title"] == title]
    assert len(merged) == 1, [d["title"] for d in after["developments"]]
    assert set(_members(after)[merged[0]["story_id"]]) == set(moving) | set(into)
    assert not {a["title"], b["title"]} & {d["title"] for d in after["developments"]}
    # a later rename of the other story's development renames the merged one
    other = next(u for u in into if u != _named_by(desk, first))
    (later,) = _ok(desk, {"op": "rename_development", "url": other, "title": "A later headline"})
    titles = [d["title"] for d in desk.report()["developments"]]
    assert "A later headline" in titles and title not in titles
    r = desk.api("POST", f"/api/reports/{PERIOD}/undo", desk.editor_token, json={"edit": later})
    assert r.status_code == 200, r.text
    titles = [d["title"] for d in desk.report()["developments"]]
    assert titles.count(title) == 1 and "A later headline" not in titles


def test_set_bucket_makes_it_the_story_primary_bucket(desk: Desk) -> None:
    doc = desk.report()
    dev = next(d for d in doc["developments"] if d["buckets"])
    new = next(b for b in ("security", "economy", "diplomacy", "defense") if b != dev["buckets"][0])
    _ok(desk, {"op": "set_bucket", "url": dev["sources"][0]["url"], "bucket": new})
    after = desk.report()
    moved = next(d for d in after["developments"] if d["story_id"] == dev["story_id"])
    assert moved["buckets"][0] == new
    assert (
        _post(desk, {"op": "set_bucket", "url": dev["sources"][0]["url"], "bucket": "weather"}).status_code
        == 400
    )


def test_reorder_pin_and_drop_developments(desk: Desk) -> None:
    doc = desk.report()
    a, b, c = _dev_urls(doc)[:3]
    titles = [d["title"] for d in doc["developments"]]
    _ok(desk, {"op": "move_development", "url": c, "position": 0})
    assert [d["title"] for d in desk.report()["developments"]][:3] == [titles[2], titles[0], titles[1]]
    pin = _ok(desk, {"op": "pin_development", "url": b, "pinned": True})[0]
    assert [d["title"] for d in desk.report()["developments"]][:3] == [titles[1], titles[2], titles[0]]
    _ok(desk, {"op": "drop_development", "url": a, "reason": "old news"})
    after = desk.report()
    assert titles[0] not in [d["title"] for d in after["developments"]]
    assert a in _clusters(after), "a dropped development's items stay in the report's items"
    r = desk.api("POST", f"/api/reports/{PERIOD}/undo", desk.editor_token, json={"edit": pin})
    assert r.status_code == 200, r.text
    assert [d["title"] for d in desk.report()["developments"]][:2] == [titles[2], titles[1]]
    assert _post(desk, {"op": "drop_development", "url": b}).status_code == 400  # a reason is required


def test_edited_wording_is_flagged_for_numbers_and_names_apart(desk: Desk) -> None:
    doc = desk.report()
    sentence = doc["executive_summary_sentences"][0]["text"]
    for added, flagged in ((", with 4,321 troops", "numbers"), (", as Atlantis announced", "names")):
        op = {"op": "edit_sentence", "original": sentence, "text": sentence.rstrip(".") + added + "."}
        r = _post(desk, op)
        assert r.status_code == 422 and r.json()["needs_confirmation"], r.text
        assert flagged in r.json()["why"], r.json()["why"]
    # both at once: the analyst is told both, not only the first check it failed
    both = {
        "op": "edit_sentence",
        "original": sentence,
        "text": sentence.rstrip(".") + ", as 4,321 Atlanteans said.",
    }
    why = _post(desk, both).json()["why"]
    assert "numbers not in its sources: 4321" in why and "names not in its sources: atlanteans" in why, why
    # wording the cited items support needs no confirmation, and keeps its citations
    shorter = sentence.split(",")[0].rstrip(".") + "."
    _ok(desk, {"op": "edit_sentence", "original": sentence, "text": shorter})
    kept = next(s for s in desk.report()["executive_summary_sentences"] if s["text"] == shorter)
    assert kept["citations"] == doc["executive_summary_sentences"][0]["citations"]


def test_the_page_asks_for_confirmation_and_marks_what_was_confirmed(desk: Desk) -> None:
    token = desk.login()
    doc = desk.report()
    sentence = doc["executive_summary_sentences"][0]["text"]
    changed = sentence.rstrip(".") + ", with 4,321 troops."
    form = {
        "csrf": token,
        "op": "edit_sentence",
        "original": sentence,
        "text": changed,
        "back": "#executive-summary",
    }
    r = desk.client.post(f"/reports/{PERIOD}/edit", data=form, follow_redirects=False)
    assert r.status_code == 422 and "4321" in r.text
    assert 'name="confirmed"' in r.text and desk.report()["review"]["changes"] == 0
    r = desk.client.post(f"/reports/{PERIOD}/edit", data=form | {"confirmed": "1"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/reports/{PERIOD}#executive-summary"
    page = desk.client.get(f"/reports/{PERIOD}").text
    assert "confirmed by hand" in page and "numbers not in its sources: 4321" in page
    assert changed in [s["text"] for s in desk.report()["executive_summary_sentences"]]


def test_assessments_carry_their_author_in_every_section(desk: Desk) -> None:
    texts = {
        "executive_summary": "The week was calmer than it looks.",
        "geopolitical": "Relations with both neighbours look steady.",
        "military": "The exercise calendar is on track.",
        "outlook": "Expect more of the same next week.",
    }
    _ok(desk, *({"op": "add_assessment", "section": s, "text": t} for s, t in texts.items()))
    doc = desk.report()
    added = {s["text"]: s for s in sentences_of(doc) if s["kind"] == "assessment"}
    assert set(texts.values()) <= set(added)
    assert all(added[t]["author"] == EDITOR and added[t]["citations"] == [] for t in texts.values())
    geo = next(b for b in doc["sections"]["geopolitical_blocks"] if b["heading"] == "Analyst's assessment")
    assert [s["text"] for s in geo["sentences"]] == [texts["geopolitical"]]
    assert texts["outlook"] in [s["text"] for s in doc["sections"]["outlook"]["recommendations"]]
    assert _post(desk, {"op": "add_assessment", "section": "weather", "text": "x"}).status_code == 400


def test_a_cited_assessment_is_verified_against_its_citations(desk: Desk) -> None:
    doc = desk.report()
    url = doc["annex"][0]["url"]
    r = _post(
        desk, {"op": "add_assessment", "section": "outlook", "text": "Expect 7,777 more.", "urls": [url]}
    )
    assert r.status_code == 422 and "7777" in r.json()["why"]
    _ok(
        desk, {"op": "add_assessment", "section": "outlook", "text": "More of this is likely.", "urls": [url]}
    )
    after = desk.report()
    cited = next(
        s for s in after["sections"]["outlook"]["recommendations"] if s["text"] == "More of this is likely."
    )
    number = next(a["number"] for a in after["annex"] if a["url"] == url)
    assert cited["citations"] == [number] and cited["author"] == EDITOR


def test_approved_files_mark_analyst_text_and_say_who_approved(desk: Desk) -> None:
    _ok(
        desk,
        {
            "op": "add_assessment",
            "section": "executive_summary",
            "text": "The week was calmer than it looks.",
        },
    )
    r = desk.api("POST", f"/api/reports/{PERIOD}/approve", desk.editor_token)
    assert r.status_code == 200, r.text
    stem = desk.settings.out / f"mongolia-{PERIOD}"
    doc = json.loads(stem.with_suffix(".json").read_text(encoding="utf-8"))
    approved_at = datetime.fromisoformat(doc["review"]["approved_at"])
    when = approved_at.astimezone(desk.settings.zone()).strftime("%Y-%m-%d %H:%M")  # the report's own zone
    md = stem.with_suffix(".md").read_text(encoding="utf-8")
    html = stem.with_suffix(".html").read_text(encoding="utf-8")
    assert f"*Assessment ({EDITOR}):* The week was calmer than it looks.\n" in md  # no empty [ ]
    assert f"approved by {EDITOR} on {when}" in md
    label = f'<span class="assessment"><span class="assessment-label">Assessment ({EDITOR}):</span>'
    assert f"{label} The week was calmer than it looks.</span>" in html
    assert f"Approved by {EDITOR} on {when}" in html
    assert doc["review"]["approved_by"] == EDITOR and doc["review"]["status"] == "approved"


def test_item_sources_and_audit_pages_show_what_the_analyst_checks(desk: Desk) -> None:
    desk.login()
    doc = desk.report()
    item = next(i for i in doc["items"] if i["url"] in {a["url"] for a in doc["annex"]})
    page = desk.client.get(f"/reports/{PERIOD}/items/{item['item_id']}").text
    assert f'href="{item["url"]}"' in page, "the original link"
    assert "Extracted text" in page and "Why relevant" in page and "Cited as" in page
    sources = desk.client.get("/sources").text
    for name in {i["source"] for i in doc["items"]}:
        assert name in sources
    assert 'class="badge ok"' in sources
    _ok(desk, {"op": "exclude_item", "url": item["url"], "reason": "checked: a wire copy"})
    trail = desk.client.get("/audit").text
    assert "exclude item" in trail and "checked: a wire copy" in trail and EDITOR in trail


def test_the_page_kept_in_parts_shows_each_reader_their_own_forms_and_the_latest_edit(desk: Desk) -> None:
    """The draft page's stories are rendered once and kept: never another session's CSRF token
    or an editor's forms to a viewer, never a story as it was before an edit."""
    editor_csrf = desk.login()
    page = desk.client.get(f"/reports/{PERIOD}").text
    assert page.count(f'value="{editor_csrf}"') > 10 and 'value="exclude_item"' in page
    editor_cookies = dict(desk.client.cookies)
    desk.client.cookies.clear()  # another browser: the viewer's session
    viewer_csrf = desk.login(VIEWER)
    seen = desk.client.get(f"/reports/{PERIOD}").text
    assert editor_csrf not in seen and 'value="exclude_item"' not in seen and viewer_csrf
    desk.client.cookies.clear()
    desk.client.cookies.update(editor_cookies)
    doc = desk.report()
    url = doc["annex"][0]["url"]
    item_id = next(i["item_id"] for i in doc["items"] if i["url"] == url)
    assert f'<li id="item-{item_id}">' in page
    _ok(desk, {"op": "exclude_item", "url": url, "reason": "a copy"})
    after = desk.client.get(f"/reports/{PERIOD}").text
    assert f'<li id="item-{item_id}">' not in after and "a copy" in after


def test_the_audit_trail_lists_an_approval_after_the_edits_it_approved(desk: Desk) -> None:
    ids = _ok(desk, {"op": "add_assessment", "section": "outlook", "text": "More talks are expected."})
    assert desk.api("POST", f"/api/reports/{PERIOD}/approve", desk.editor_token).status_code == 200
    later = _ok(desk, {"op": "add_assessment", "section": "outlook", "text": "And then some more."})
    desk.login()
    trail = desk.client.get("/audit").text
    rows = re.findall(r'<td class="num">(\d*)</td>\s*<td>[^<]*</td>\s*<td>[^<]*</td>\s*<td>([a-z ]+)', trail)
    assert [(n, what.strip()) for n, what in rows] == [
        (str(later[0]), "add assessment"),
        ("", "approve"),
        (str(ids[0]), "add assessment"),
    ]
