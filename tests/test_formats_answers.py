"""Documents of every format end to end: a real index over a corpus of a Markdown, an HTML, an
rST, a PDF and a DOCX file (made here), answers from each through the Assistant and the `qa`
command, with exact offsets and locations that name the document."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from formats_corpus import make_corpus

from qa.render import answer_to_dict

QA = [sys.executable, "-m", "qa"]


@pytest.fixture(scope="module")
def formats_corpus(tmp_path_factory: pytest.TempPathFactory, index_dir: Path) -> tuple[Path, Path]:
    """The corpus and its index (``index_dir`` first: the model is exported once per session)."""
    from qa import index

    root = tmp_path_factory.mktemp("formats")
    corpus = make_corpus(root / "corpus")
    with pytest.warns(Warning, match="skipped 2 files of unsupported types"):
        index.build(corpus, root / "index")
    return corpus, root / "index"


@pytest.fixture(scope="module")
def assistant(formats_corpus):
    from qa import Assistant

    corpus, index = formats_corpus
    return Assistant.load(corpus, index, rebuild=False)


@pytest.mark.parametrize(
    ("question", "answer", "location", "file"),
    [
        ("How often should the starter be fed?", "twice a day", "Hydration › Feeding, ¶1", "sourdough.md"),
        ("What temperature of water does green tea want?", "80 degrees", "Temperature, ¶1", "kettles.html"),
        ("How long do worker bees live in summer?", "six weeks", "Hives, ¶", "bees.rst"),
        ("What was the revenue in 2025?", "41 million euros", "page 2, ¶1", "harbour.pdf"),
        ("When did the Chain Bridge in Budapest open?", "1849", "Rivers › Bridges", "notes.docx"),
    ],
)
def test_answers_from_each_format_at_exact_offsets(assistant, question, answer, location, file) -> None:
    result = assistant.ask(question)
    assert not result.abstained and answer in (result.answer or ""), (result.answer, [h.passage.location for h in result.passages])
    text = assistant.index.documents[result.answer_doc]
    assert text[result.answer_start : result.answer_end] == result.answer
    [citation] = result.citations[:1]
    assert citation.location.startswith(location) and citation.location.endswith(f"({file})")
    assert text[citation.start : citation.end] == citation.quote
    assert "**" not in citation.quote and "<" not in citation.quote
    data = answer_to_dict(result)
    assert data["answer_offsets"] == "extracted text" and data["citations"][0]["offsets"] == "extracted text"
    source = (assistant.index.directory.parent / "corpus" / file).read_bytes()
    if file.endswith((".pdf", ".docx")):  # binary: offsets are the extracted text's only
        assert data["answer_file_start"] is None and data["citations"][0]["file_start"] is None
    else:  # text formats: the answer stands at those offsets in the file itself
        in_file = source.decode("utf-8")[data["answer_file_start"] : data["answer_file_end"]]
        assert in_file == result.answer
    assert all(p["doc"] for p in data["passages"])


def test_the_command_names_documents_and_shows_extracted_text(formats_corpus) -> None:
    corpus, index = formats_corpus
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "200"}
    where = ["--corpus", str(corpus), "--index", str(index), "--no-rebuild"]
    proc = subprocess.run([*QA, "ask", "--passages", "What was the revenue in 2025?", *where],
                          capture_output=True, text=True, timeout=180, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "41 million euros" in proc.stdout and "page 2, ¶1 (harbour.pdf)" in proc.stdout
    listed = proc.stdout.split("Retrieved passages")[1]
    assert sum(doc in listed for doc in ("harbour", "sourdough", "kettles", "bees", "notes")) >= 2
    proc = subprocess.run([*QA, "ask", "--json", "How often should the starter be fed?", *where],
                          capture_output=True, text=True, timeout=180, env=env)
    data = json.loads(proc.stdout)
    source = (corpus / "sourdough.md").read_text(encoding="utf-8")
    for c in data["citations"]:
        assert c["offsets"] == "extracted text" and c["quote"] in source[c["file_start"] : c["file_end"]] + c["quote"]
        assert source[c["file_start"] : c["file_end"]].startswith(c["quote"][:4])
    shown = subprocess.run([*QA, "show", "harbour", "--corpus", str(corpus)], capture_output=True, text=True, timeout=60, env=env)
    assert shown.returncode == 0, shown.stderr
    assert "Revenue in 2025 was 41 million euros." in shown.stdout  # the text PDF offsets refer to
    missing = subprocess.run([*QA, "show", "nothing", "--corpus", str(corpus)], capture_output=True, text=True, timeout=60, env=env)
    assert missing.returncode == 2 and missing.stderr.startswith("qa: error: no document 'nothing'")
    assert len(missing.stderr.strip().splitlines()) == 1
    build = subprocess.run([*QA, "index", "build", "--verbose", "--corpus", str(corpus), "--index", str(index.parent / "again")],
                           capture_output=True, text=True, timeout=300, env=env)
    assert build.returncode == 0, build.stderr
    assert "qa: warning:" in build.stderr and "skipped 2 files of unsupported types (.png, .xlsx)" in build.stderr
    assert "skipped photo.png: unsupported type" in build.stderr and "skipped budget.xlsx" in build.stderr


def test_the_query_path_imports_no_format_library(formats_corpus) -> None:
    """Readers are imported when a corpus is read, never to answer: a PDF/DOCX corpus's index
    keeps the extracted text, so loading it reads no PDF or DOCX."""
    corpus, index = formats_corpus
    code = (
        "import sys; from qa import Assistant; "
        f"a = Assistant.load({str(corpus)!r}, {str(index)!r}, rebuild=False); "
        "assert '1849' in a.ask('When did the Chain Bridge in Budapest open?').answer; "
        "libs = ('pypdf', 'docx', 'selectolax', 'docutils', 'mdit_py_plugins', 'yaml', 'fpdf'); "
        "print(sorted(m for m in libs if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
