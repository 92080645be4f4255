"""One place where every benchmark writes its figures: bench/results/latest.json (issue 7).

Each figure is one record — figure, value, unit, baseline, ratio, target, machine, date — keyed by its name, so a
script run alone updates its own figures and leaves the others. `record()` also prints the figure as one line.
"""

import datetime
import fcntl
import json
import os
import platform
from pathlib import Path

RESULTS = Path(os.environ.get("BENCH_RESULTS", Path(__file__).resolve().parent / "results" / "latest.json"))


def machine():
    """What the figure was measured on: host kind, CPUs, Python, the database engine named by the caller."""
    return {
        "hostname": platform.node(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()} {platform.machine()}",
        "load_average": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
    }


def record(figure, value, unit, *, baseline=None, ratio=None, target=None, engine=None, note=""):
    """Store one figure (replacing an earlier one of the same name) and print it as one line.

    ``baseline`` is the same-run reference (the floor, hello-world); ``ratio`` defaults to value / baseline.
    ``target`` is the QUALITY.md bound in words, e.g. "≤ 1.5×"."""
    if ratio is None and baseline:
        ratio = value / baseline
    row = {
        "figure": figure,
        "value": round(value, 4) if isinstance(value, float) else value,
        "unit": unit,
        "baseline": round(baseline, 4) if isinstance(baseline, float) else baseline,
        "ratio": round(ratio, 3) if ratio is not None else None,
        "target": target,
        "engine": engine,
        "note": note,
        "machine": machine(),
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with open(RESULTS.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            data = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {"figures": []}
        except ValueError:
            data = {"figures": []}
        figures = [f for f in data.get("figures", []) if f.get("figure") != figure]
        figures.append(row)
        data = {"updated": row["date"], "figures": sorted(figures, key=lambda f: f["figure"])}
        tmp = RESULTS.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        tmp.replace(RESULTS)
    shown = f"{value:.4g}" if isinstance(value, float) else str(value)
    line = f"{figure}: {shown} {unit}"
    if baseline is not None:
        base = f"{baseline:.4g}" if isinstance(baseline, float) else str(baseline)
        line += f" (baseline {base} {unit}"
        line += f", ratio {ratio:.2f}×)" if ratio is not None else ")"
    elif ratio is not None:
        line += f" (ratio {ratio:.2f}×)"
    if target:
        line += f" — target {target}"
    print(line, flush=True)
    return row


def markdown(path=RESULTS) -> str:
    """The stored figures as a Markdown table (figure, value, baseline, ratio, target, load) for docs/benchmarks.md."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    lines = ["| figure | value | baseline | ratio | target | load average |", "|---|---|---|---|---|---|"]
    for f in data["figures"]:
        base = "—" if f["baseline"] is None else f"{f['baseline']:.4g} {f['unit']}"
        ratio = "—" if f["ratio"] is None else f"{f['ratio']:.2f}×"
        value = f"{f['value']:.4g}" if isinstance(f["value"], float) else str(f["value"])
        lines.append(f"| `{f['figure']}` | {value} {f['unit']} | {base} | {ratio} | {f['target'] or '—'} | "
                     f"{f['machine'].get('load_average')} |")
    return "\n".join(lines)


if __name__ == "__main__":  # python bench/results.py: the table of bench/results/latest.json
    print(markdown())
