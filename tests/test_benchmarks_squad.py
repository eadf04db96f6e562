"""SQuAD benchmark files: loading, sampling, the corpus they become, and the official report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from qa.benchmarks import squad
from qa.errors import UsageError

ROOT = Path(__file__).resolve().parent.parent

TINY = {
    "version": "v2.0",
    "data": [
        {"title": "Sour_dough", "paragraphs": [
            {"context": "A baker named the starter Herman. It is fed twice a day.",
             "qas": [
                 {"id": "q1", "question": "Who named the starter?", "is_impossible": False,
                  "answers": [{"text": "A baker", "answer_start": 0}, {"text": "baker", "answer_start": 2}]},
                 {"id": "q2", "question": "When was the starter born?", "is_impossible": True, "answers": [],
                  "plausible_answers": [{"text": "twice a day", "answer_start": 44}]},
             ]},
        ]},
        {"title": "Tea", "paragraphs": [
            {"context": "Tea is brewed for three minutes.",
             "qas": [{"id": "q3", "question": "How long is tea brewed?", "is_impossible": False,
                      "answers": [{"text": "three minutes", "answer_start": 17}]}]},
        ]},
    ],
}


@pytest.fixture()
def tiny_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(TINY), encoding="utf-8")
    return path


def test_load_reads_answers_impossibility_and_question_words(tiny_file: Path) -> None:
    data = squad.load(tiny_file)
    assert [q.id for q in data.questions] == ["q1", "q2", "q3"]
    assert data.questions[0].answers == ("A baker", "baker")
    assert data.questions[1].answers == ()  # plausible answers are not answers
    assert data.has_unanswerable and data.version == "v2.0"
    assert [q.wh_word for q in data.questions] == ["who", "when", "how"]
    assert len(data.sha256) == 64


def test_malformed_files_are_usage_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"data": [{"title": "x"}]}', encoding="utf-8")
    with pytest.raises(UsageError, match="not a SQuAD file"):
        squad.load(bad)
    with pytest.raises(UsageError, match="cannot read"):
        squad.load(tmp_path / "missing.json")


def test_sample_is_seeded_and_keeps_file_order(tiny_file: Path) -> None:
    questions = squad.load(tiny_file).questions
    assert squad.sample(questions, 2, 7) == squad.sample(questions, 2, 7)
    picked = [q.id for q in squad.sample(questions, 2, 7)]
    assert picked == sorted(picked) and len(picked) == 2
    assert squad.sample(questions, None, 7) == questions


def test_corpus_has_one_document_per_article_and_keeps_every_paragraph(tiny_file: Path, tmp_path: Path) -> None:
    data = squad.load(tiny_file)
    corpus = squad.write_corpus(data.articles, tmp_path / "c")
    files = sorted(p.name for p in corpus.iterdir())
    assert files == ["Sour_dough.txt", "Tea.txt"]
    text = (corpus / "Sour_dough.txt").read_text(encoding="utf-8")
    assert text.startswith("Sour dough\n\n") and "A baker named the starter Herman." in text
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".corpus-")]  # no temporary left


def test_report_oracle_is_100_and_all_empty_is_the_no_answer_share(tiny_file: Path) -> None:
    data = squad.load(tiny_file)
    oracle = [squad.Prediction("q1", "baker", 0.1), squad.Prediction("q2", "", 0.9),
              squad.Prediction("q3", "three minutes", 0.2)]
    report = squad.report(data, data.questions, oracle)
    assert report["overall"]["exact"] == 100.0 and report["overall"]["best_f1"] == 100.0
    assert set(report["by_article"]) == {"Sour_dough", "Tea"}
    empty = [squad.Prediction(q.id, "", 1.0) for q in data.questions]
    overall = squad.report(data, data.questions, empty)["overall"]
    assert overall["exact"] == pytest.approx(100 / 3, abs=0.01)  # one of three is unanswerable
    assert overall["NoAns_total"] == 1 and overall["HasAns_total"] == 2


def test_cli_rejects_a_missing_file_and_the_rules_reader_in_the_reading_setting(tiny_file: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "qa", "eval", *args], capture_output=True, text=True, timeout=120)

    missing = run("--squad", str(tiny_file.with_name("nope.json")))
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1 and "cannot read" in missing.stderr
    rules = run("--squad", str(tiny_file), "--setting", "reading", "--reader", "rules")
    assert rules.returncode == 2 and "reading setting" in rules.stderr


def _reader_copy(tmp_path: Path, seen: list[str]) -> Path:
    """The shipped reader's files, with a card that says it saw the articles ``seen``."""
    from qa.reader import model_dir

    shipped = model_dir()
    copy = tmp_path / "reader"
    copy.mkdir(parents=True)
    for item in shipped.iterdir():
        if item.name != "model_card.json":
            (copy / item.name).symlink_to(item.resolve())
    card = json.loads((shipped / "model_card.json").read_text(encoding="utf-8"))
    card["dev_articles_seen"] = seen
    (copy / "model_card.json").write_text(json.dumps(card), encoding="utf-8")
    return copy


def test_articles_the_reader_saw_are_never_scored(tiny_file: Path, tmp_path: Path, monkeypatch) -> None:
    from qa.benchmarks import runner

    monkeypatch.setenv("QA_READER_MODEL", str(_reader_copy(tmp_path, ["Tea"])))
    assert squad.articles_seen_by_reader() == {"Tea"}
    run = runner.run_squad(tiny_file, "reading", limit=None, seed=0, k=5)
    assert set(run.predictions) == {"q1", "q2"}  # q3 is Tea's
    assert run.summary["excluded"]["articles"] == ["Tea"] and run.summary["excluded"]["questions"] == 1
    assert "less the 1 question of 1 article the shipped reader was trained or calibrated on (Tea)" in runner.markdown(run.summary)

    monkeypatch.setenv("QA_READER_MODEL", str(_reader_copy(tmp_path / "all", ["Tea", "Sour_dough"])))
    with pytest.raises(UsageError, match="nothing to measure"):
        runner.run_squad(tiny_file, "reading", limit=None, seed=0, k=5)


def test_the_shipped_card_names_the_dev_articles_it_saw() -> None:
    seen = squad.articles_seen_by_reader()
    dev = ROOT.parent / "shared" / "datasets" / "squad" / "dev-v2.0-part.json"
    if not seen:
        pytest.skip("the shipped reader saw no dev article")
    titles = {a["title"] for a in json.loads(dev.read_text(encoding="utf-8"))["data"]}
    assert seen < titles and len(seen) <= len(titles) // 2
