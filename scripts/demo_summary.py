"""Prints the end-of-demo summary from what the local run wrote under the local root, ending with the model
benchmark's metrics table. Usage: python scripts/demo_summary.py <local-root>"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from clv_model.bench import format_table


def _load(path: Path) -> dict:
    return json.loads(path.read_text())


def _one(root: Path, pattern: str) -> Path | None:
    found = sorted(root.glob(pattern))
    return found[-1] if found else None


def _alerts(root: Path) -> list[dict]:
    """The messages of the local alerts topic, oldest first."""
    topic = root / "_local" / "sns" / "clv-local-alerts.jsonl"
    if not topic.exists():
        return []
    out = []
    for line in topic.read_text().splitlines():
        if line.strip():
            try:
                out.append(json.loads(json.loads(line)["Message"]))
            except (json.JSONDecodeError, KeyError):
                out.append({"event": "unparseable", "severity": "high"})
    return out


def _monitoring_lines(root: Path) -> list[str]:
    """The monitoring run (drift per feature, proxy, retraining) and the alerts raised (alerts topic)."""
    alerts = _alerts(root)
    lines = []
    for done in (a for a in alerts if a.get("event") == "monitoring_completed"):
        lines.append(
            f"monitoring {done.get('scoring_date')} of {done.get('model_version')}: max drift "
            f"{done.get('max_drift_severity')}, prediction PSI {float(done.get('prediction_psi') or 0):.3f}, "
            f"proxy {done.get('proxy_status')}, matured cohort {done.get('matured_status')}, "
            f"retraining wanted {done.get('retrain_wanted')}"
        )
    drift = [a for a in alerts if a.get("event") == "drift"]
    if drift:
        shown = ", ".join(
            f"{a.get('feature')} {float(a.get('value') or 0):.3f}"
            + ("" if a.get("status") == "resolved" else f" ({a.get('severity')})")
            for a in drift
        )
        lines.append(f"drift PSI per feature: {shown}")
    firing = [
        a for a in alerts if a.get("status", "firing") == "firing" and a.get("severity") in {"high", "medium"}
    ]
    kinds = sorted({f"{a.get('event')} ({a.get('severity')})" for a in firing})
    lines.append(
        f"alerts raised (high/medium): {len(firing)}"
        + (f": {', '.join(kinds)}" if kinds else "")
        + f"; all messages in {root / '_local' / 'sns' / 'clv-local-alerts.jsonl'}"
    )
    for a in alerts:
        if a.get("event") == "retraining_triggered":
            lines.append(f"retraining triggered: {a.get('summary')} → {a.get('training_execution')}")
    return lines


def main(root: Path) -> int:
    lines: list[str] = []
    manifest = root / "clv-local-raw" / "manifest.json"
    if manifest.exists():
        counts = _load(manifest)["counts"]
        tx, cs = counts["transactions"], counts["clickstream"]
        lines.append(f"generated: {tx['rows']:,} transaction rows, {cs['events']:,} clickstream events")
    for job, label in (("ingest_transactions", "transactions"), ("sessionize_clickstream", "clickstream")):
        rec = _one(root, f"clv-local-artifacts/reports/reconciliation/{job}/range=*/*.json")
        if rec is None:
            continue
        r = _load(rec)
        if job == "ingest_transactions":
            lines.append(
                f"{label}: landed {r['landed_rows']:,} = silver {r['silver_rows']:,} + quarantined "
                f"{r['quarantined_rows']:,} + duplicates removed {r['duplicates_removed']:,} "
                f"over {r['days']} days (balanced: {r['balanced']})"
            )
        else:
            lines.append(
                f"{label}: landed {r['landed_events']:,} = valid {r['valid_events']:,} + quarantined "
                f"{r['quarantined_events']:,} + duplicates {r['duplicates_removed']:,}; "
                f"{r['sessions']:,} sessions (balanced: {r['balanced']})"
            )
    quality = _one(root, "clv-local-artifacts/quality/*/dt=*/result.json")
    if quality is not None:
        summary = _load(quality)["summary"]
        lines.append(
            f"quality gate: {summary['status']} ({summary['passed']}/{summary['total']} expectations "
            f"passed); report {quality.with_name('report.html')}"
        )
    for snap in sorted((root / "clv-local-features" / "snapshots").glob("*.json")):
        s = _load(snap)
        lines.append(
            f"feature snapshot {s['snapshot_id']}: {s['row_count']:,} customers, labels {s['with_labels']}, "
            f"CRM extract {s.get('customers_as_of') or 'none'}"
        )
    evaluation = _one(root, "clv-local-artifacts/evaluations/*/evaluation.json")
    if evaluation is not None:
        report = _load(evaluation)
        rev, churn = report.get("revenue", {}), report.get("churn", {})
        keys = ("rmse", "gini_normalized", "top_decile_capture")
        shown = {k: rev[k] for k in keys if isinstance(rev.get(k), float)}
        if isinstance(churn.get("auc"), float):
            shown["churn_auc"] = churn["auc"]
        lines.append(
            "model evaluation (test snapshot): "
            + ", ".join(f"{k} {v:.3f}" for k, v in shown.items())
            + f"; model card {evaluation.with_name('model_card.md')}"
        )
    package = _one(root, "_local/registry/*/*.json")
    if package is not None:
        p = _load(package)
        stage = (p.get("CustomerMetadataProperties") or {}).get("stage", "n/a")
        lines.append(
            f"model registry: {p.get('ModelPackageGroupName')} version {p.get('ModelPackageVersion')} "
            f"({p.get('ModelApprovalStatus')}, stage {stage})"
        )
    scoring = _one(root, "clv-local-artifacts/scoring/*/summary.json")
    if scoring is not None:
        sc = _load(scoring)
        m = sc["metrics"]
        lines.append(
            f"batch scoring {sc['scoring_date']} with {sc['model_version']}: {sc['rows_in']:,} in = "
            f"{sc['rows_scored']:,} scored + {sc['rows_rejected']:,} rejected "
            f"(reconciled: {sc['reconciled']}); "
            f"CLV mean {m['clv_mean']:.2f}, p90 {m['clv_p90']:.2f}; tiers High {m['tier_share_high']:.1%}, "
            f"Medium {m['tier_share_medium']:.1%}, Low {m['tier_share_low']:.1%}; "
            "predictions in "
            f"{root / 'clv-local-gold' / 'predictions' / ('scoring_date=' + sc['scoring_date'])}"
        )
    events = root / "_local" / "events.jsonl"
    if events.exists():
        kinds = [json.loads(line)["detail-type"] for line in events.read_text().splitlines() if line.strip()]
        lines.append(f"events: {', '.join(sorted(set(kinds)))} ({len(kinds)} in {events})")
    lines.extend(_monitoring_lines(root))
    bench = root / "_demo" / "model-bench" / "model-bench.json"
    print("\n".join(lines))
    if bench.exists():
        print("\nmodel benchmark (generated data):")
        print(format_table(_load(bench)))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: demo_summary.py <local-root>", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(Path(sys.argv[1])))
