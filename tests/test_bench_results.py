"""bench/results.py: every benchmark figure lands in one JSON file, merged by name (issue 7)."""

import importlib
import json

import pytest

REQUIRED = {"figure", "value", "unit", "baseline", "ratio", "target", "machine", "date"}


@pytest.fixture
def results(tmp_path, monkeypatch):
    """bench.results with BENCH_RESULTS pointing at a file in a temporary directory (read at import)."""
    path = tmp_path / "out" / "latest.json"
    monkeypatch.setenv("BENCH_RESULTS", str(path))
    import bench.results

    module = importlib.reload(bench.results)
    yield module, path
    monkeypatch.delenv("BENCH_RESULTS")
    importlib.reload(bench.results)


def figures(path):
    return {f["figure"]: f for f in json.loads(path.read_text(encoding="utf-8"))["figures"]}


def test_record_writes_every_required_key_and_prints_one_line(results, capsys):
    module, path = results
    row = module.record("org_close.sqlite.500orgs", 0.3, "s", baseline=0.12, target="≤ 1.5×", engine="sqlite",
                        note="median of 3 months")
    stored = figures(path)["org_close.sqlite.500orgs"]
    assert REQUIRED <= stored.keys()
    assert stored == row
    assert (stored["value"], stored["unit"], stored["baseline"], stored["ratio"]) == (0.3, "s", 0.12, 2.5)
    assert stored["machine"]["cpus"] >= 1 and stored["machine"]["python"]
    assert stored["date"][:4].isdigit() and "T" in stored["date"]
    out = capsys.readouterr().out.splitlines()
    assert out == ["org_close.sqlite.500orgs: 0.3 s (baseline 0.12 s, ratio 2.50×) — target ≤ 1.5×"]


def test_record_merges_other_figures_and_replaces_the_same_one(results):
    module, path = results
    module.record("import.sqlite.1k_members", 0.25, "s", baseline=0.025)
    module.record("import.sqlite.1k_members.peak_memory", 130, "MB", target="≤ 500 MB at 100 k")
    module.record("import.sqlite.1k_members", 0.5, "s", baseline=0.025, ratio=19.0)
    stored = figures(path)
    assert sorted(stored) == ["import.sqlite.1k_members", "import.sqlite.1k_members.peak_memory"]
    assert (stored["import.sqlite.1k_members"]["value"], stored["import.sqlite.1k_members"]["ratio"]) == (0.5, 19.0)
    memory = stored["import.sqlite.1k_members.peak_memory"]
    assert (memory["value"], memory["baseline"], memory["ratio"]) == (130, None, None)
    assert json.loads(path.read_text(encoding="utf-8"))["updated"] == stored["import.sqlite.1k_members"]["date"]


def test_record_starts_afresh_from_an_unreadable_file(results):
    module, path = results
    path.parent.mkdir(parents=True)
    path.write_text("{not json", encoding="utf-8")
    module.record("handbook.sqlite.30_members", 4.2, "s", baseline=0.5, target="≤ 10 s")
    assert list(figures(path)) == ["handbook.sqlite.30_members"]


def test_members_label_names_the_scale():
    from bench.database import members_label

    assert [members_label(n) for n in (1000, 10_000, 60_000, 100_000, 1_000_000, 1500)] == [
        "1k", "10k", "60k", "100k", "1M", "1500"]


def test_markdown_lists_every_figure_with_its_baseline_and_ratio(results):
    module, path = results
    module.record("generator.sqlite.10k_members", 0.65, "s", baseline=0.09, target="≤ 10 min at 1 M")
    module.record("import.sqlite.1k_members.peak_memory", 130, "MB")
    table = module.markdown(path).splitlines()
    assert table[0].startswith("| figure | value | baseline | ratio | target |")
    assert table[2].startswith("| `generator.sqlite.10k_members` | 0.65 s | 0.09 s | 7.22× | ≤ 10 min at 1 M |")
    assert table[3].startswith("| `import.sqlite.1k_members.peak_memory` | 130 MB | — | — | — |")
