"""Measure relevance, buckets and story clustering on the labelled development set.

``python -m eval.sorting`` prints the figures; ``--check`` compares them with the pinned
baseline (``eval/sorting_baseline.json``) and exits non-zero when one drops below it;
``--write-baseline`` pins the current figures. Two labelled sets, both written for this
project (see ``eval/README.md``): ``eval/devset.jsonl``, the set the rules were tuned on,
and ``eval/week.jsonl``, one realistic week that is never tuned on (only its aggregate
figures are read). The week is also run through the report pipeline (``eval/week.py``):
are its major developments among Key Developments?

Clustering is scored pairwise over the items the pipeline would cluster (the
gold-relevant ones): a pair is positive when both items carry the same story label.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import sys
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from osint.classify import Classifier
from osint.cluster import build_stories
from osint.models import BUCKETS, Item
from osint.settings import load_profile

from .week import evaluate_week

HERE = Path(__file__).resolve().parent
DEVSET = HERE / "devset.jsonl"
WEEK = HERE / "week.jsonl"
TUNING = HERE / "tuning.jsonl"  # hard cases written to tune on, apart from the devset
# Hard cases for the second country's profile, also tuned on (its sample week is not).
TUNING_OTHER = {
    "tuning-kazakhstan": (HERE / "tuning-kazakhstan.jsonl", HERE.parent / "countries" / "kazakhstan.yaml")
}
WEEK_PERIOD = (date(2024, 9, 2), date(2024, 9, 8))
BASELINE = HERE / "sorting_baseline.json"
PROFILE = HERE.parent / "countries" / "mongolia.yaml"
TOLERANCE = 1e-9


@dataclass
class Example:
    id: str
    title: str
    text: str
    source: str
    source_country: str | None
    language: str
    published: datetime
    relevant: bool
    buckets: list[str]
    story: str
    dup_of: str | None
    major: bool = False
    page: dict[str, str] | None = None


def split_of(story: str) -> str:
    """A fixed third of the stories is held out: tune on 'dev', report 'test' too."""
    return "test" if int(hashlib.sha1(story.encode()).hexdigest(), 16) % 3 == 0 else "dev"


def load_devset(path: Path = DEVSET, split: str = "all") -> list[Example]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        d = json.loads(line)
        out.append(
            Example(
                id=d["id"],
                title=d["title"],
                text=d["text"],
                source=d["source"],
                source_country=d.get("source_country"),
                language=d.get("language", "en"),
                published=datetime.fromisoformat(d["published"]).replace(tzinfo=UTC),
                relevant=bool(d["relevant"]),
                buckets=list(d["buckets"]),
                story=d.get("story") or f"single-{d['id']}",
                dup_of=d.get("dup_of"),
                major=bool(d.get("major")),
                page=d.get("page"),
            )
        )
    return [e for e in out if split == "all" or split_of(e.story) == split]


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4)}


def evaluate(examples: list[Example], classifier: Classifier) -> tuple[dict[str, Any], list[str]]:
    """The figures, and a list of every error (for reading, not for the gate)."""
    errors: list[str] = []
    tp = fp = fn = 0
    bucket_counts = {b: [0, 0, 0] for b in BUCKETS}
    primary_ok = primary_n = 0
    relevant_ok = relevant_n = 0
    items: list[Item] = []
    gold_story: dict[int, str] = {}
    for n, ex in enumerate(examples, start=1):
        c = classifier.classify(ex.title, ex.text, ex.source_country)
        if c.relevant and ex.relevant:
            tp += 1
        elif c.relevant and not ex.relevant:
            fp += 1
            errors.append(f"{ex.id} false relevant ({c.relevance}): {ex.title}")
        elif ex.relevant:
            fn += 1
            errors.append(f"{ex.id} missed relevant ({c.relevance}): {ex.title}")
        predicted, gold = set(c.buckets), set(ex.buckets)
        for b in BUCKETS:
            counts = bucket_counts[b]
            counts[0] += b in predicted and b in gold
            counts[1] += b in predicted and b not in gold
            counts[2] += b not in predicted and b in gold
        # buckets == [] labels a text that belongs to none of the four: right when none is given.
        right = c.buckets[:1] == ex.buckets[:1]
        primary_n += 1
        primary_ok += right
        if ex.relevant:
            relevant_n += 1
            relevant_ok += right
        if not right:
            errors.append(f"{ex.id} primary {c.buckets[:1]} != {ex.buckets[:1]}: {ex.title}")
        if ex.relevant:
            item = Item(
                id=n,
                url=f"https://dev.example/{ex.id}",
                source=ex.source,
                title=ex.title,
                text=ex.text,
                published=ex.published,
                first_seen=ex.published,
                language=ex.language,
                source_country=ex.source_country,
                classification=c,
            )
            items.append(item)
            gold_story[n] = ex.story
    stories = build_stories(items, classifier.profile)
    predicted_story = {i: s.id for s in stories for i in s.item_ids}
    ptp = pfp = pfn = 0
    for x, y in itertools.combinations(sorted(gold_story), 2):
        same_gold = gold_story[x] == gold_story[y]
        same_pred = predicted_story[x] == predicted_story[y]
        ptp += same_gold and same_pred
        pfp += same_pred and not same_gold
        pfn += same_gold and not same_pred
    by_id = {n: ex for n, ex in enumerate(examples, start=1)}
    groups: dict[str, list[int]] = defaultdict(list)
    for i, s in predicted_story.items():
        groups[s].append(i)
    for members in groups.values():
        gold_labels = {gold_story[i] for i in members}
        if len(gold_labels) > 1:
            errors.append(f"merged stories {sorted(gold_labels)}: {sorted(by_id[i].id for i in members)}")
    split: dict[str, set[str]] = defaultdict(set)
    for i, label in gold_story.items():
        split[label].add(predicted_story[i])
    for label, preds in split.items():
        if len(preds) > 1:
            errors.append(f"split story {label} into {len(preds)} predicted stories")
    per_bucket = {b: _prf(*bucket_counts[b]) for b in BUCKETS}
    figures: dict[str, Any] = {
        "items": len(examples),
        "relevance": _prf(tp, fp, fn),
        "buckets": per_bucket,
        "bucket_macro_f1": round(sum(v["f1"] for v in per_bucket.values()) / len(BUCKETS), 4),
        "primary_accuracy": round(primary_ok / primary_n, 4) if primary_n else 0.0,
        "primary_accuracy_relevant": round(relevant_ok / relevant_n, 4) if relevant_n else 0.0,
        "clustering": _prf(ptp, pfp, pfn),
        "clustered_items": len(items),
        "stories_predicted": len(stories),
        "stories_gold": len(set(gold_story.values())),
    }
    return figures, errors


GATED = [
    ("relevance", "precision"),
    ("relevance", "recall"),
    ("bucket_macro_f1",),
    ("primary_accuracy",),
    ("primary_accuracy_relevant",),
    ("clustering", "precision"),
    ("clustering", "recall"),
    ("clustering", "f1"),
]
TARGETS = {
    ("relevance", "precision"): 0.95,
    ("relevance", "recall"): 0.90,
    ("primary_accuracy_relevant",): 0.85,
    ("clustering", "f1"): 0.85,
}
# Report-level figures of the week: higher is better for the first, lower for the rest.
WEEK_GATED_UP = [("major_share",), ("summary_computed_statements",)]
WEEK_GATED_DOWN = [
    ("titles_outlet_name",),
    ("titles_other_language",),
    ("calendar_repeated",),
    ("calendar_irrelevant",),
    ("sentences_not_standing_alone",),
    ("sentences_twice_in_a_section",),
    ("page_headline_errors",),
    ("page_date_errors",),
]


def _get(figures: dict[str, Any], path: tuple[str, ...]) -> float:
    value: Any = figures
    for key in path:
        value = value[key]
    return float(value)


def compare(figures: dict[str, Any], baseline: dict[str, Any]) -> list[str]:
    """Every gated figure that fell below its pinned baseline."""
    drops = []
    for path in GATED:
        now, pinned = _get(figures, path), _get(baseline, path)
        if now + TOLERANCE < pinned:
            drops.append(f"{'.'.join(path)}: {now:.4f} < baseline {pinned:.4f}")
    report = figures.get("report")
    if report is not None and "report" in baseline:
        for path in WEEK_GATED_UP:
            now, pinned = _get(report, path), _get(baseline["report"], path)
            if now + TOLERANCE < pinned:
                drops.append(f"report.{'.'.join(path)}: {now:.4f} < baseline {pinned:.4f}")
        for path in WEEK_GATED_DOWN:
            now, pinned = _get(report, path), _get(baseline["report"], path)
            if now > pinned + TOLERANCE:
                drops.append(f"report.{'.'.join(path)}: {now:.0f} > baseline {pinned:.0f}")
    return drops


def table(figures: dict[str, Any], name: str = "Development set") -> str:
    lines = [
        f"{name}: {figures['items']} items ({figures['clustered_items']} relevant, "
        f"{figures['stories_gold']} gold stories, {figures['stories_predicted']} predicted)",
        "",
        "| measure | value | target (SPEC §5) |",
        "|---|---:|---:|",
    ]
    for path in GATED:
        target = TARGETS.get(path)
        lines.append(f"| {'.'.join(path)} | {_get(figures, path):.3f} | {target if target else ''} |")
    lines += ["", "| bucket | precision | recall | F1 |", "|---|---:|---:|---:|"]
    for b, v in figures["buckets"].items():
        lines.append(f"| {b} | {v['precision']:.3f} | {v['recall']:.3f} | {v['f1']:.3f} |")
    report = figures.get("report")
    if report:
        lines += [
            "",
            f"Report on {report['period']} ({report['period_items']} relevant items in the period):",
            "",
        ]
        lines += ["| report figure | value |", "|---|---:|"]
        for key, value in report.items():
            if key not in ("period", "period_items"):
                lines.append(f"| {key} | {value} |")
    return "\n".join(lines)


def evaluate_all(classifier: Classifier) -> dict[str, tuple[dict[str, Any], list[str]]]:
    """Figures of the devset (all, dev, test) and of the untuned week (with its report)."""
    results = {name: evaluate(load_devset(split=name), classifier) for name in ("all", "dev", "test")}
    results["tuning"] = evaluate(load_devset(TUNING), classifier)
    for name, (path, profile) in TUNING_OTHER.items():
        results[name] = evaluate(load_devset(path), Classifier(load_profile(profile)))
    week = load_devset(WEEK)
    results["week"] = evaluate(week, classifier)
    results["week"][0]["report"], _notes = evaluate_week(week, classifier, *WEEK_PERIOD)
    return results


GATED_SETS = ("all", "test", "tuning", *TUNING_OTHER, "week")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when below the baseline")
    parser.add_argument("--write-baseline", action="store_true", help="pin the current figures")
    parser.add_argument("--errors", action="store_true", help="list every misclassified item")
    parser.add_argument(
        "--split",
        choices=["all", "dev", "test", "tuning", *TUNING_OTHER],  # never the week: it is not for tuning
        default="all",
        help="dev: the part to tune on; test: the held-out third of the stories",
    )
    args = parser.parse_args(argv)
    classifier = Classifier(load_profile(PROFILE))
    results = evaluate_all(classifier)
    errors = results[args.split][1]
    for name in ("all", "dev", "test"):
        print(f"\n## devset: {name} (tuned on)\n")
        print(table(results[name][0]))
    print("\n## tuning set (tuned on: hard cases written apart from the devset)\n")
    print(table(results["tuning"][0], "Tuning set"))
    for name in TUNING_OTHER:
        print(f"\n## {name} (tuned on: hard cases for another country's profile)\n")
        print(table(results[name][0], name))
    print("\n## week: 2-8 September 2024 (untuned: never tune on its errors)\n")
    print(table(results["week"][0], "Untuned week"))
    if args.errors:  # the devset's errors only: the week is read in aggregate
        print("\n".join(["", *errors]))
    from .sample_weeks import run as run_sample_weeks  # it imports this module

    week_drops = run_sample_weeks(check=args.check, write_baseline=args.write_baseline, errors=args.errors)
    if args.write_baseline:
        pinned = {name: r[0] for name, r in results.items()}
        BASELINE.write_text(json.dumps(pinned, indent=2) + "\n")
        print(f"\npinned {BASELINE}")
    if args.check:
        baseline = json.loads(BASELINE.read_text())
        drops = [f"{name}: {d}" for name in GATED_SETS for d in compare(results[name][0], baseline[name])]
        drops += week_drops
        for d in drops:
            print(f"BELOW BASELINE: {d}", file=sys.stderr)
        return 1 if drops else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
