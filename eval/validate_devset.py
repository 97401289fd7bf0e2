"""Validate eval/devset.jsonl and print its composition.

Usage: python eval/validate_devset.py [PATH]   (exit 1 on any error)

Standard library only, so it runs before the package is installed.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

BUCKETS = {"security", "economy", "diplomacy", "defense"}
LANGUAGES = {"en", "ru", "mn", "zh"}
FIELDS = [
    "id", "title", "text", "source", "source_country", "language", "published",
    "relevant", "buckets", "story", "dup_of", "note",
]
# Any spelling of the country's name in the scripts used here (also matches "Inner Mongolia").
COUNTRY_NAME = re.compile(r"mongol|монгол|蒙古", re.IGNORECASE)
# Mongolia the country, i.e. a country-name hit that is not Inner Mongolia / a dish / a pet.
COUNTRY_PROPER = re.compile(
    r"(?<!Inner )\bMongolia\b|Монголи[яию]|蒙古国", re.IGNORECASE
)


def length(text: str, language: str) -> int:
    """Words for alphabetic scripts; for Chinese, characters / 2 (a rough word count)."""
    if language == "zh":
        return len(re.findall(r"[\u4e00-\u9fff]", text)) // 2
    return len(re.findall(r"\w+", text))


def main(path: Path) -> int:
    errors: list[str] = []
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            errors.append(f"line {n}: does not parse: {exc}")
    by_id = {}
    for r in rows:
        rid = r.get("id")
        if list(r) != FIELDS:
            errors.append(f"{rid}: fields {list(r)} != {FIELDS}")
        if rid in by_id:
            errors.append(f"{rid}: duplicate id")
        by_id[rid] = r
        b = r["buckets"]
        # [] is "none of the four" (issue 11): only for an item that is not relevant.
        if not (isinstance(b, list) and len(b) <= 3 and len(set(b)) == len(b) and set(b) <= BUCKETS):
            errors.append(f"{rid}: bad buckets {b}")
        elif not b and r["relevant"]:
            errors.append(f"{rid}: a relevant item needs a bucket")
        if r["language"] not in LANGUAGES:
            errors.append(f"{rid}: bad language {r['language']}")
        if not isinstance(r["relevant"], bool):
            errors.append(f"{rid}: relevant is not a bool")
        try:
            dt.date.fromisoformat(r["published"])
        except (TypeError, ValueError):
            errors.append(f"{rid}: bad date {r['published']}")
        words = length(r["text"], r["language"])
        if not 80 <= words <= 300:
            errors.append(f"{rid}: text length {words} outside 80-300")
        if not r["title"].strip() or not r["source"].strip():
            errors.append(f"{rid}: empty title or source")
        note = r["note"] or ""
        if "domestic: country not named" in note:
            if not (r["relevant"] and r["source_country"] == "MN"):
                errors.append(f"{rid}: domestic item must be relevant and MN")
            if COUNTRY_NAME.search(r["title"] + " " + r["text"]):
                errors.append(f"{rid}: domestic item names the country")
        if "list mention" in note and len(COUNTRY_PROPER.findall(r["title"] + " " + r["text"])) != 1:
            errors.append(f"{rid}: list mention should name the country exactly once")
        if "Inner Mongolia (China) only" in note and COUNTRY_PROPER.search(r["title"] + " " + r["text"]):
            errors.append(f"{rid}: Inner Mongolia item mentions Mongolia the country")

    stories: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        if r["story"] is not None:
            stories[r["story"]].append(r["id"])
        if r["dup_of"] is not None:
            orig = by_id.get(r["dup_of"])
            if orig is None:
                errors.append(f"{r['id']}: dup_of {r['dup_of']} does not exist")
            elif orig["story"] is None or orig["story"] != r["story"]:
                errors.append(f"{r['id']}: dup_of {r['dup_of']} has a different story")
            elif orig["dup_of"] is not None:
                errors.append(f"{r['id']}: dup_of points at another copy")
    for sid, ids in stories.items():
        if not 2 <= len(ids) <= 6:
            errors.append(f"story {sid}: {len(ids)} items (want 2-6)")

    rel = [r for r in rows if r["relevant"]]
    irr = [r for r in rows if not r["relevant"]]
    primary_rel = Counter(r["buckets"][0] for r in rel)
    primary_irr = Counter(r["buckets"][0] if r["buckets"] else "none" for r in irr)
    any_bucket = Counter(b for r in rows for b in r["buckets"])
    lang = Counter(r["language"] for r in rows)
    lang_rel = Counter(r["language"] for r in rel)
    notes = [r["note"] or "" for r in rows]
    hard = Counter()
    for label, pattern in [
        ("railway/mine deal with China -> economy", r"hard case: (railway|mine)"),
        ("exercise invitation -> diplomacy", r"hard case: .*(invitation|exercise)"),
        ("defense mentioning budget -> defense", r"hard case: defense .*budget"),
        ("cyber incident/law -> security", r"hard case: cyber"),
        ("disaster or border -> security", r"hard case: disaster"),
        ("social/energy/food 'security' -> economy", r"'(social|energy|food) security' is not security"),
        ("Mongolian outlet, foreign story -> not relevant", r"hard case: Mongolian outlet"),
    ]:
        hard[label] = sum(bool(re.search(pattern, n)) for n in notes)
    domestic = sum("domestic: country not named" in n for n in notes)
    near_miss = sum("near-miss" in n for n in notes)
    dups = sum(r["dup_of"] is not None for r in rows)
    singletons = sum(r["story"] is None for r in rows)

    report = {
        "items": len(rows),
        "relevant": len(rel),
        "irrelevant": len(irr),
        "primary_bucket_relevant": dict(sorted(primary_rel.items())),
        "primary_bucket_irrelevant": dict(sorted(primary_irr.items())),
        "any_bucket_all_items": dict(sorted(any_bucket.items())),
        "languages": dict(sorted(lang.items())),
        "languages_relevant": dict(sorted(lang_rel.items())),
        "stories": len(stories),
        "story_sizes": dict(sorted(Counter(len(v) for v in stories.values()).items())),
        "items_in_stories": sum(len(v) for v in stories.values()),
        "singletons": singletons,
        "syndicated_copies": dups,
        "domestic_country_not_named": domestic,
        "near_miss_items": near_miss,
        "inner_mongolia_only": sum("Inner Mongolia (China) only" in n for n in notes),
        "list_mentions": sum("list mention" in n for n in notes),
        "non_news": sum("non-news" in n for n in notes),
        "no_clear_bucket": sum("no clear bucket" in n for n in notes),
        "hard_cases": dict(hard),
    }

    # composition the brief asks for
    want = [
        (len(rows) >= 170, "at least 170 items"),
        (all(primary_rel[b] >= 20 for b in BUCKETS), "at least 20 relevant items per primary bucket"),
        (sum(v for k, v in lang.items() if k != "en") >= 30, "at least 30 non-English items"),
        (lang["ru"] >= 10 and lang["mn"] >= 10 and lang["zh"] >= 5, "ru/mn/zh present in number"),
        (domestic >= 20, "at least 20 domestic items that do not name the country"),
        (dups >= 15, "at least 15 syndicated copies"),
        (len(stories) >= 30, "at least 30 multi-item stories"),
        (all(v >= 4 for k, v in hard.items() if "Mongolian outlet" not in k), "at least 4 of each hard case"),
        (len(irr) >= 50, "at least 50 irrelevant items"),
    ]
    for ok, what in want:
        if not ok:
            errors.append(f"composition: {what}")

    print(json.dumps(report, ensure_ascii=False, indent=2))
    for e in errors:
        print("ERROR", e, file=sys.stderr)
    print(f"{len(errors)} error(s)", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    default = Path(__file__).with_name("devset.jsonl")
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else default))
