"""What ``tcdb train structure-experts`` prints: every figure with its protocol and n."""

from __future__ import annotations

import math


def _scores(s: dict) -> str:
    return f"r² {s['r2']:.4f}, RMSE {s['rmse_K']:.2f} K, MAE {s['mae_K']:.2f} K (n {s['n']})"


def winner(metrics: dict) -> tuple[str, float, str, float]:
    """(the better of the experts and their best baseline on the scored part, its r², the
    other, its r²)."""
    baselines = metrics["baselines"]
    part = next(iter(baselines.values()))["part"]
    ours = metrics[part]["r2"]
    name, best = max(
        ((n, b["r2"]) for n, b in baselines.items()),
        key=lambda item: -math.inf if math.isnan(item[1]) else item[1],
    )
    if math.isnan(best) or ours >= best:
        return "structure-experts", ours, name, best
    return name, best, "structure-experts", ours


def summary_lines(metrics: dict) -> list[str]:
    """The protocol, each evaluated part (by origin, by expert, coverage, domain), the
    baselines on the scored part and which wins."""
    first = metrics["validation"]
    sizes = ", ".join(f"{k[2:]} {v}" for k, v in first.items() if k.startswith("n_"))
    lines = [f"protocol {first['protocol']} ({sizes} structures): {first['description']}"]
    for part in ("validation", "test"):
        if part not in metrics:
            continue
        s = metrics[part]
        lines.append(f"experts on {part}: {_scores(s)}")
        for origin, o in s.get("by_origin", {}).items():
            lines.append(f"  {origin}: {_scores(o)}")
        for expert, e in s.get("by_expert", {}).items():
            lines.append(f"  {expert} expert: {_scores(e)}")
        c = s.get("coverage", {})
        if c.get("n"):
            lines.append(
                f"  spread: {c['within_1_sigma']:.1%} of labels within ±1σ, "
                f"{c['within_2_sigma']:.1%} within ±2σ (normal 68.3 %, 95.4 %)"
            )
        lines.append(f"  in the domain: {s['in_domain_share']:.1%} of the part")
    for name, b in metrics["baselines"].items():
        lines.append(f"baseline {name} on {b['part']}: {_scores(b)}")
    best, best_r2, other, other_r2 = winner(metrics)
    part = next(iter(metrics["baselines"].values()))["part"]
    lines.append(
        f"on the {part} part {best} wins: r² {best_r2:.4f} against {other_r2:.4f} for {other}"
    )
    return lines
