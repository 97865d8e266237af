# The two commands a newcomer needs:  make run  (install + start)  and  make test.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
MODEL := var/models/multilingual-e5-small/modules.json
INDEX := var/index/CURRENT

.PHONY: setup run test lint eval bench clean

setup: $(INSTALLED) $(MODEL) $(INDEX)

$(INSTALLED): pyproject.toml
	# espeak-ng (Debian) is the speech engine pyttsx3 drives for the callbot's voice.
	command -v espeak-ng >/dev/null || { apt-get update -qq && apt-get install -y -qq --no-install-recommends espeak-ng; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || \
		{ echo "Python 3.11 is required for the main environment (found $$($(PYTHON) --version))." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	# The CPU build of torch first: resolving torch through its dependants pulls GBs of CUDA wheels.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

$(MODEL): | $(INSTALLED)
	$(BIN)/citizenbot build-model

$(INDEX): | $(INSTALLED) $(MODEL)
	$(BIN)/citizenbot ingest
	$(BIN)/citizenbot index

run: setup
	$(BIN)/citizenbot serve

test: setup
	$(BIN)/ruff check bot voice tests bench
	$(BIN)/python -m pytest

eval: setup
	$(BIN)/citizenbot export-heldout var/eval/faq_heldout.jsonl
	$(BIN)/citizenbot eval --quiet --questions var/eval/faq_heldout.jsonl
	$(BIN)/citizenbot eval --quiet --questions knowledge/eval/citizen_questions.jsonl

bench: setup
	$(BIN)/python bench/retrieval.py

clean:
	rm -rf $(VENV) var
