"""The real `qa` command, end to end, in subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ARTICLE, DOC_ID

QA = [sys.executable, "-m", "qa"]


def run(*args: str, stdin: str | None = None, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "200"}
    return subprocess.run([*QA, *args], input=stdin, capture_output=True, text=True, timeout=timeout, env=env)


def assert_one_line_error(proc: subprocess.CompletedProcess[str], code: int, needle: str) -> None:
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("qa: error:") and needle in lines[0], proc.stderr


def test_ask_json_schema_and_exact_citation(index_dir: Path, corpus_dir: Path) -> None:
    proc = run("ask", "--json", "Who replaced Litvinov?", "--corpus", str(corpus_dir), "--index", str(index_dir))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert {"question", "answer", "abstained", "confidence", "citations", "passages", "timings_ms"} <= set(data)
    assert data["question"] == "Who replaced Litvinov?"
    assert data["answer"] == "Molotov" and data["abstained"] is False
    assert 0.0 <= data["confidence"] <= 1.0
    text = ARTICLE.read_bytes().decode("utf-8")
    assert data["citations"]
    for c in data["citations"]:
        assert set(c) == {"doc", "passage_id", "start", "end", "quote", "location", "offsets", "file_start", "file_end"}
        assert c["offsets"] == "file" and (c["file_start"], c["file_end"]) == (c["start"], c["end"])
        assert c["doc"] == DOC_ID and text[c["start"] : c["end"]] == c["quote"]
    assert len(data["passages"]) == 5
    for p in data["passages"]:
        assert {"passage_id", "doc", "start", "end", "text", "score"} <= set(p)
        assert text[p["start"] : p["end"]] == p["text"]
    assert data["timings_ms"]["total"] > 0


def test_ask_human_output(index_dir: Path, corpus_dir: Path) -> None:
    proc = run("ask", "Who replaced Litvinov?", "--corpus", str(corpus_dir), "--index", str(index_dir))
    assert proc.returncode == 0, proc.stderr
    first_line = proc.stdout.splitlines()[0]
    assert first_line.strip() == "Molotov"
    assert "section 4, paragraph 6" in proc.stdout
    assert "Thus Litvinov’s replacement by Molotov in the spring of 1939" in proc.stdout


def test_abstention_exits_3_and_shows_nearest_passages(index_dir: Path, corpus_dir: Path) -> None:
    proc = run("ask", "--json", "-k", "3", "Who won the 1954 football World Cup?", "--corpus", str(corpus_dir), "--index", str(index_dir))
    assert proc.returncode == 3, proc.stderr
    data = json.loads(proc.stdout)
    assert data["abstained"] is True and data["answer"] is None and len(data["passages"]) == 3
    human = run("ask", "Who won the 1954 football World Cup?", "--corpus", str(corpus_dir), "--index", str(index_dir))
    assert human.returncode == 3 and "does not say" in human.stdout


def test_retriever_option(index_dir: Path, corpus_dir: Path) -> None:
    for method in ("dense", "bm25"):
        proc = run("ask", "--json", "--retriever", method, "Who replaced Litvinov?", "--corpus", str(corpus_dir), "--index", str(index_dir))
        assert proc.returncode in (0, 3), proc.stderr  # 3: abstained (BM25 ranks the evidence lower)
        result = json.loads(proc.stdout)
        assert any("Molotov" in p["text"] for p in result["passages"])


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (("ask", ""), 2, "empty"),
        (("ask", "   "), 2, "empty"),
        (("ask", "--bogus", "x"), 2, "No such option"),
        (("ask", "-k", "0", "x"), 2, "--top-k"),
        (("ask", "--retriever", "magic", "x"), 2, "--retriever"),
        (("frobnicate",), 2, "No such command"),
        (("ask", "x", "--corpus", "/nonexistent/corpus"), 2, "corpus directory not found"),
    ],
)
def test_bad_usage_is_one_line_and_exit_2(args: tuple[str, ...], code: int, needle: str) -> None:
    assert_one_line_error(run(*args), code, needle)


def test_version_and_help() -> None:
    assert run("--version").stdout.strip() == "qa 0.1.0"
    helped = run("--help")
    assert helped.returncode == 0 and "ask" in helped.stdout and "index" in helped.stdout


def test_no_rebuild_with_missing_index_exits_1(tmp_path: Path, corpus_dir: Path) -> None:
    proc = run("ask", "x?", "--no-rebuild", "--corpus", str(corpus_dir), "--index", str(tmp_path / "none"))
    assert_one_line_error(proc, 1, "qa index build")


def test_index_build_info_and_auto_rebuild(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "bears.md").write_text("# Bears\n\nMarshal Bulganin kept a tame bear named Misha.\n", encoding="utf-8")
    index = tmp_path / "index"

    info = run("index", "info", "--corpus", str(corpus), "--index", str(index))
    assert info.returncode == 1 and "no index" in info.stderr

    build = run("index", "build", "--corpus", str(corpus), "--index", str(index))
    assert build.returncode == 0, build.stderr
    assert "built" in build.stderr and "1 documents" in build.stderr
    info = run("index", "info", "--json", "--corpus", str(corpus), "--index", str(index))
    data = json.loads(info.stdout)
    assert data["fresh"] is True and data["manifest"]["counts"]["documents"] == 1
    assert "up to date" in run("index", "info", "--corpus", str(corpus), "--index", str(index)).stdout

    # A new document makes the index stale; `ask` rebuilds it by itself and finds the new text.
    (corpus / "cats.txt").write_text("Cats\n\nMolotov owned a cat called Vasily.\n", encoding="utf-8")
    assert json.loads(run("index", "info", "--json", "--corpus", str(corpus), "--index", str(index)).stdout)["fresh"] is False
    ask = run("ask", "--json", "What was the name of Molotov's cat?", "--corpus", str(corpus), "--index", str(index))
    assert ask.returncode == 0, ask.stderr
    data = json.loads(ask.stdout)
    assert data["citations"][0]["doc"] == "cats" and "Vasily" in data["citations"][0]["quote"]
    assert ask.stdout.count("\n") == 1  # stdout is exactly one JSON line: progress never leaks into it


def test_query_path_never_imports_torch(index_dir: Path, corpus_dir: Path) -> None:
    code = (
        "import sys; from qa import Assistant; "
        f"a = Assistant.load({str(corpus_dir)!r}, {str(index_dir)!r}, rebuild=False); "
        "assert a.ask('Who replaced Litvinov?').answer == 'Molotov'; "
        "heavy = sorted(m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules); "
        "print(heavy)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_eval_runs_a_set_with_baselines_and_writes_results(tmp_path: Path, index_dir: Path, corpus_dir: Path) -> None:
    smoke = Path(__file__).resolve().parent.parent / "eval" / "smoke.jsonl"
    summary, predictions, markdown = tmp_path / "s.json", tmp_path / "p.jsonl", tmp_path / "t.md"
    proc = run(
        "eval", "--questions", str(smoke), "--retriever", "hybrid", "--retriever", "bm25",
        "--json", str(summary), "--predictions", str(predictions), "--markdown", str(markdown),
        "--corpus", str(corpus_dir), "--index", str(index_dir),
    )
    assert proc.returncode == 0, proc.stderr
    assert "answer accuracy" in proc.stdout and "Recall@5" in proc.stdout
    runs = json.loads(summary.read_text())["runs"]
    assert [r["retriever"] for r in runs] == ["hybrid", "bm25"]
    assert runs[0]["questions"]["overall"]["citations_verified"] == 1.0
    lines = [json.loads(line) for line in predictions.read_text().splitlines()]
    n = sum(1 for line in smoke.read_text().splitlines() if line.strip())
    assert len(lines) == 2 * n and {"id", "turn", "answer", "citations", "score"} <= set(lines[0])
    assert "| metric | hybrid | bm25 |" in markdown.read_text()
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave no temporary files


def test_eval_malformed_file_names_file_and_line(tmp_path: Path, index_dir: Path, corpus_dir: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "question": "Who?", "answers": []}\n{"id": "b", "question": \n', encoding="utf-8")
    out = tmp_path / "summary.json"
    proc = run("eval", "--questions", str(bad), "--json", str(out), "--corpus", str(corpus_dir), "--index", str(index_dir))
    assert_one_line_error(proc, 2, f"{bad}:2: not valid JSON")
    assert not out.exists()


def test_eval_scores_conversations_turn_by_turn(tmp_path: Path, index_dir: Path, corpus_dir: Path) -> None:
    dialogues = tmp_path / "c.jsonl"
    dialogues.write_text(
        json.dumps({"id": "c1", "turns": [
            {"question": "Who replaced Litvinov?", "answers": ["Molotov"], "evidence": []},
            {"question": "When was that?", "answers": ["1939"], "evidence": []},
            {"question": "When was he born?", "answers": [], "evidence": []},
        ]}) + "\n",
        encoding="utf-8",
    )
    summary, predictions = tmp_path / "s.json", tmp_path / "p.jsonl"
    proc = run("eval", "--conversations", str(dialogues), "--json", str(summary), "--predictions", str(predictions),
               "--corpus", str(corpus_dir), "--index", str(index_dir))
    assert proc.returncode == 0, proc.stderr
    assert "turn accuracy" in proc.stdout
    (report,) = json.loads(summary.read_text())["runs"]
    assert "questions" not in report and report["conversations"]["turns"]["n"] == 3
    lines = [json.loads(line) for line in predictions.read_text().splitlines()]
    assert [(p["id"], p["turn"]) for p in lines] == [("c1", 1), ("c1", 2), ("c1", 3)]
    assert lines[0]["answer"] == "Molotov" and lines[0]["score"]["correct"] is True
    assert "Molotov" in lines[1]["standalone_question"]  # the follow-up was resolved


PLAIN_ASKS = [
    ["ask", "Who replaced Litvinov?"],
    ["ask", "--json", "Who replaced Litvinov?"],
    ["ask", "Who?", "--json", "-k", "3", "--retriever", "bm25", "--passages", "--no-rebuild"],
    ["ask", "--top-k", "50", "--corpus", "some/dir", "--index", "/tmp/ix", "Why?", "--retriever", "dense"],
    ["ask", "-k", "1", "-k", "7", "x"],  # the last one wins, as in typer
    ["ask", "--reader", "model", "Who?"],
    ["ask", "--quiet", "--json", "Who?"],
    ["ask", "Who?", "-q"],
]
UNUSUAL_ASKS = [
    ["ask"], ["ask", "--help"], ["ask", "a", "b"], ["ask", "--top-k=3", "q"], ["ask", "-k", "0", "q"],
    ["ask", "-k", "51", "q"], ["ask", "-k", "three", "q"], ["ask", "--retriever", "magic", "q"], ["ask", "q", "-k"],
    ["ask", "--reader", "oracle", "q"],
    ["ask", "--", "-dash question"], ["ask", "--unknown", "q"], ["ask", "-", "q"], ["index", "build"], [],
]


def _typer_parse(args: list[str]) -> dict:
    import typer

    from qa.cli_app import app

    group = typer.main.get_command(app)
    with group.make_context("qa", list(args)) as ctx:
        command = group.get_command(ctx, args[0])
        with command.make_context(args[0], list(args[1:]), parent=ctx) as sub:
            return dict(sub.params)


@pytest.mark.parametrize("args", PLAIN_ASKS)
def test_fast_ask_parses_like_typer(args: list[str]) -> None:
    from qa.cli import _parse_plain_ask

    expected = _typer_parse(args)
    parsed = _parse_plain_ask(args)
    assert parsed is not None
    assert {**{k: v for k, v in expected.items() if k not in parsed}, **parsed} == expected


@pytest.mark.parametrize("args", UNUSUAL_ASKS)
def test_anything_unusual_is_left_to_typer(args: list[str]) -> None:
    from qa.cli import _parse_plain_ask

    assert _parse_plain_ask(args) is None


def test_fast_ask_names_are_asks_parameters() -> None:
    import inspect

    from qa.cli import _ASK_FLAGS, _ASK_VALUES, ask

    assert {*_ASK_FLAGS.values(), *_ASK_VALUES.values()} <= set(inspect.signature(ask).parameters)


def test_one_shot_ask_imports_nothing_it_does_not_use(index_dir: Path, corpus_dir: Path) -> None:
    """`qa ask --json` as scripts run it: no torch, no bm25s/scipy, no typer, pydantic or rich, and not the rule reader."""
    code = (
        "import atexit, sys\n"
        "heavy = ('torch', 'sentence_transformers', 'transformers', 'bm25s', 'scipy', 'pydantic', 'typer', 'rich', 'qa.rules')\n"
        "atexit.register(lambda: sys.stderr.write('LOADED ' + repr(sorted(m for m in heavy if m in sys.modules)) + '\\n'))\n"
        f"sys.argv = ['qa', 'ask', '--json', 'Who replaced Litvinov?', '--corpus', {str(corpus_dir)!r}, '--index', {str(index_dir)!r}]\n"
        "from qa.cli import main\n"
        "main()\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["answer"] == "Molotov"
    assert "LOADED []" in proc.stderr, proc.stderr
