"""The quality gate: classification and clustering figures may not drop below the pinned baseline."""

from __future__ import annotations

import json

from eval import sorting
from osint.classify import Classifier
from osint.settings import load_profile


def test_figures_hold_the_pinned_baseline() -> None:
    classifier = Classifier(load_profile(sorting.PROFILE))
    baseline = json.loads(sorting.BASELINE.read_text())
    for split in ("all", "test"):
        figures, _ = sorting.evaluate(sorting.load_devset(split=split), classifier)
        assert sorting.compare(figures, baseline[split]) == [], split


def test_the_gate_can_fail() -> None:
    figures, _ = sorting.evaluate(
        sorting.load_devset(split="test"), Classifier(load_profile(sorting.PROFILE))
    )
    raised = json.loads(json.dumps(figures))
    raised["relevance"]["precision"] = 1.01
    assert sorting.compare(figures, raised) == [
        f"relevance.precision: {figures['relevance']['precision']:.4f} < baseline 1.0100"
    ]
