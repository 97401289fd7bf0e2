"""The quality gate: classification and clustering figures may not drop below the pinned baseline."""

from __future__ import annotations

import json

from eval import sorting
from osint.classify import Classifier
from osint.settings import load_profile


def test_figures_hold_the_pinned_baseline() -> None:
    classifier = Classifier(load_profile(sorting.PROFILE))
    baseline = json.loads(sorting.BASELINE.read_text())
    results = sorting.evaluate_all(classifier)
    for name in sorting.GATED_SETS:
        assert sorting.compare(results[name][0], baseline[name]) == [], name


def test_the_week_report_figures_can_fail() -> None:
    """The untuned week's report figures are gated too, both ways (more found, fewer faults)."""
    results = sorting.evaluate_all(Classifier(load_profile(sorting.PROFILE)))
    figures = results["week"][0]
    pinned = json.loads(json.dumps(figures))
    pinned["report"]["major_share"] = 1.01
    pinned["report"]["calendar_repeated"] = -1
    drops = sorting.compare(figures, pinned)
    assert any(d.startswith("report.major_share") for d in drops)
    assert any(d.startswith("report.calendar_repeated") for d in drops)


def test_the_gate_can_fail() -> None:
    figures, _ = sorting.evaluate(
        sorting.load_devset(split="test"), Classifier(load_profile(sorting.PROFILE))
    )
    raised = json.loads(json.dumps(figures))
    raised["relevance"]["precision"] = 1.01
    assert sorting.compare(figures, raised) == [
        f"relevance.precision: {figures['relevance']['precision']:.4f} < baseline 1.0100"
    ]
