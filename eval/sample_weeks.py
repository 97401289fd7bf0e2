"""Labelled sample weeks under samples/: the same figures as the devset, for other countries.

A sample week is a directory ``samples/<name>/`` with ``articles.yaml`` (every article's
title and text, as written), ``labels.json`` (the answers, built from it by the
directory's build.py) and ``feeds.yaml`` (its sources and its country profile). Each is
scored with its own country's profile, so a second country is measured by the same code
and the same bars as the first. None of these weeks is used to tune the code.

``labels.json`` may also say ``about_mongolia`` per article: then the week is scored a
second time with that profile, to show that each desk keeps its own items and the items
the two countries share (a state visit between them), and drops the other's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml

from osint.classify import Classifier
from osint.settings import load_profile

from .sorting import TARGETS, Example, _get, compare, evaluate, table
from .week import evaluate_week

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
BASELINE = Path(__file__).resolve().parent / "sample_weeks_baseline.json"
CROSS_PROFILES = {"about_mongolia": "mongolia"}
"""A label key naming another country, and that country's profile under countries/."""


@dataclass
class SampleWeek:
    name: str
    period: tuple[date, date] | None
    """The week its report covers (``week.yaml``), for the report-level figures."""
    examples: list[Example]
    classifier: Classifier
    cross: dict[str, tuple[list[Example], Classifier]]
    """Per other profile: the articles it has an answer for, labelled with that answer."""


def _source_of(url: str, feeds: list[dict[str, Any]]) -> dict[str, Any]:
    """The source an article came from: the feed or listing whose directory is the
    longest prefix of the article's URL (two feeds may share an outlet's site)."""

    def directory(feed_url: str) -> str:
        return feed_url if feed_url.endswith("/") else feed_url.rsplit("/", 1)[0] + "/"

    outlet = url.split("/")[1] if url.startswith("__BASE__/") else ""
    candidates = [f for f in feeds if url.startswith(directory(f["url"]))] or [
        f for f in feeds if f["url"].split("/")[1] == outlet
    ]
    if not candidates:
        raise ValueError(f"no source in feeds.yaml serves {url}")
    return max(candidates, key=lambda f: len(directory(f["url"])))


def _examples(root: Path, relevant_key: str) -> list[Example]:
    texts = {
        a["id"]: a for a in yaml.safe_load((root / "articles.yaml").read_text(encoding="utf-8"))["articles"]
    }
    feeds = yaml.safe_load((root / "feeds.yaml").read_text(encoding="utf-8"))["sources"]
    out = []
    for label in json.loads((root / "labels.json").read_text(encoding="utf-8")):
        if label.get(relevant_key) is None:
            continue
        article = texts[label["id"]]
        source = _source_of(label["url"], feeds)
        out.append(
            Example(
                id=label["id"],
                title=article["title"],
                text=article["text"].strip(),
                source=source["name"],
                source_country=source.get("country"),
                language=label["language"],
                published=datetime.fromisoformat(label["published"]).astimezone(UTC),
                relevant=bool(label[relevant_key]),
                buckets=list(label["buckets"]),
                story=label["story"],
                dup_of=label.get("syndicated_copy_of"),
                major=bool(label.get("major")),
            )
        )
    return out


def sample_weeks(root: Path = SAMPLES) -> list[SampleWeek]:
    """Every labelled sample week under ``root`` (directories with articles.yaml)."""
    weeks = []
    for directory in sorted(p for p in root.iterdir() if (p / "articles.yaml").is_file()):
        feeds = yaml.safe_load((directory / "feeds.yaml").read_text(encoding="utf-8"))
        profile = load_profile((directory / feeds["country"]).resolve())
        labels = json.loads((directory / "labels.json").read_text(encoding="utf-8"))
        cross = {}
        for key, other in CROSS_PROFILES.items():
            if other != profile.slug and any(label.get(key) is not None for label in labels):
                other_profile = load_profile(root.parent / "countries" / f"{other}.yaml")
                cross[other] = (_examples(directory, key), Classifier(other_profile))
        week_file = directory / "week.yaml"
        period = None
        if week_file.is_file():
            week = yaml.safe_load(week_file.read_text(encoding="utf-8"))
            period = (date.fromisoformat(str(week["start"])), date.fromisoformat(str(week["end"])))
        weeks.append(
            SampleWeek(
                directory.name, period, _examples(directory, "about_country"), Classifier(profile), cross
            )
        )
    return weeks


def relevance_only(examples: list[Example], classifier: Classifier) -> tuple[dict[str, float], list[str]]:
    """Relevance precision and recall of another desk's profile on a week (no buckets or stories)."""
    tp = fp = fn = 0
    errors = []
    for ex in examples:
        decision = classifier.classify(ex.title, ex.text, ex.source_country)
        if decision.relevant and ex.relevant:
            tp += 1
        elif decision.relevant:
            fp += 1
            errors.append(f"{ex.id} false relevant ({decision.relevance}): {ex.title}")
        elif ex.relevant:
            fn += 1
            errors.append(f"{ex.id} missed relevant ({decision.relevance}): {ex.title}")
    return {
        "items": len(examples),
        "precision": round(tp / (tp + fp), 4) if tp + fp else 0.0,
        "recall": round(tp / (tp + fn), 4) if tp + fn else 0.0,
    }, errors


def _bars(figures: dict[str, Any]) -> str:
    checks = [
        f"{'.'.join(path)} {_get(figures, path):.3f} {'>=' if _get(figures, path) >= bar else '<'} {bar}"
        for path, bar in TARGETS.items()
    ]
    met = all(_get(figures, path) >= bar for path, bar in TARGETS.items())
    report = figures.get("report")
    if report:  # SPEC §5: every major development of the week among Key Developments
        found, wanted = report["major_in_key_developments"], report["major_developments"]
        checks.append(f"major developments among Key Developments {found}/{wanted}")
        met = met and found == wanted
    return ("meets the SPEC §5 bars: " if met else "BELOW the SPEC §5 bars: ") + "; ".join(checks)


def run(*, check: bool, write_baseline: bool, errors: bool) -> list[str]:
    """Print every sample week's figures; with ``check``, return the figures that fell
    below ``eval/sample_weeks_baseline.json``; with ``write_baseline``, pin them."""
    pinned: dict[str, Any] = {}
    drops: list[str] = []
    baseline = json.loads(BASELINE.read_text()) if check and BASELINE.is_file() else {}
    for week in sample_weeks():
        figures, week_errors = evaluate(week.examples, week.classifier)
        if week.period is not None:  # the week's report, as an analyst reads it
            figures["report"], notes = evaluate_week(week.examples, week.classifier, *week.period)
            week_errors += notes
        print(f"\n## sample week {week.name} (samples/{week.name}, not tuned on)\n")
        print(table(figures, f"Sample week {week.name}"))
        print(f"\n{_bars(figures)}")
        for other, (examples, classifier) in week.cross.items():
            cross, cross_errors = relevance_only(examples, classifier)
            print(
                f"\nThe {other} profile on this week ({cross['items']} labelled items): relevance "
                f"precision {cross['precision']:.3f}, recall {cross['recall']:.3f}"
            )
            week_errors += [f"[{other}] {e}" for e in cross_errors]
        if errors:
            print("\n".join(["", *week_errors]))
        pinned[week.name] = figures
        if check:
            if week.name not in baseline:
                drops.append(f"sample week {week.name}: no pinned baseline (run --write-baseline)")
            else:
                drops += [f"sample week {week.name}: {d}" for d in compare(figures, baseline[week.name])]
    if write_baseline:
        BASELINE.write_text(json.dumps(pinned, indent=2) + "\n")
        print(f"\npinned {BASELINE}")
    return drops
