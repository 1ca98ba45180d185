"""The Grafana dashboard asks only for series coach exports, by labels they have."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from coach.metrics import Metrics

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "coach.json"


def test_every_query_names_an_exported_series_and_its_labels() -> None:
    metrics = Metrics()
    # one sample of each labelled family, so the exposition lists every series name
    metrics.provider_call("deepgram", 0.1, None)
    metrics.provider_retry("deepgram")
    exported: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(metrics.exposition().decode()):
        labels = {"le", "job"}
        for child in family.samples:
            labels |= set(child.labels)
        for suffix in ("", "_total", "_bucket", "_count", "_sum"):
            exported[family.name + suffix] = labels
    declared = {  # labels of families with no sample yet: from their definitions
        m._name: set(m._labelnames) | {"le", "job"}
        for m in vars(metrics).values()
        if hasattr(m, "_labelnames")
    }
    for family, labels in declared.items():
        for suffix in ("", "_total", "_bucket", "_count", "_sum"):
            exported.setdefault(family + suffix, set()).update(labels)
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    assert len(exprs) >= 12
    used = set()
    for expr in exprs:
        for name in re.findall(r"\bcoach_\w+", expr):
            assert name in exported, (name, expr)
            used.add(re.sub(r"_(total|bucket|count|sum)$", "", name))
            for by in re.findall(r"by \(([^)]*)\)", expr):
                for label in (x.strip() for x in by.split(",")):
                    assert label in exported[name], (label, name)
    # every family coach exports is on the dashboard
    assert {re.sub(r"_total$", "", f) for f in declared} <= used
