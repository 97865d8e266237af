# The two commands a newcomer needs:  make run  (install + start)  and  make test.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
MODEL := var/models/multilingual-e5-small/modules.json
INDEX := var/index/CURRENT

# The Rasa dialogue runs in its own Python 3.10 environment (Rasa 3.6 supports 3.8–3.10
# and pins pydantic 1), found through pyenv or on PATH; set RASA_PYTHON to choose another.
RASA_PYTHON ?= $(shell p="$$(pyenv prefix 3.10.13 2>/dev/null)"; \
	if [ -x "$$p/bin/python3.10" ]; then echo "$$p/bin/python3.10"; else command -v python3.10; fi)
RASA_VENV := .venv-rasa
RASA_BIN := $(RASA_VENV)/bin
RASA_INSTALLED := $(RASA_VENV)/.installed
RASA_MODEL := var/rasa/models/citizenbot.tar.gz
RASA_TRAINING := config.yml nlu_data/domain.yml $(wildcard nlu_data/train/*.yml) actions/folding_tokenizer.py
# The repository root on PYTHONPATH: Rasa loads the custom tokenizer from actions/.
RASA_ENV := PYTHONPATH=$(CURDIR) RASA_TELEMETRY_ENABLED=false RASA_MAX_CACHE_SIZE=0 \
	RASA_CACHE_DIRECTORY=$(CURDIR)/var/rasa/cache

.PHONY: setup run test lint eval bench bench-load nlu-quality rasa-model rasa-actions rasa-serve browser clean

# The main environment (install, model, index) and the Rasa one (install, training) are built side by
# side: on a 2-core machine from scratch, 11.3 min instead of 13.9 one after the other (2026-12-07).
setup:
	@$(MAKE) --no-print-directory --jobs=2 $(INSTALLED) $(MODEL) $(INDEX) $(RASA_MODEL)

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

$(RASA_INSTALLED): requirements-rasa.txt
	@[ -n "$(RASA_PYTHON)" ] && $(RASA_PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null || \
		{ echo "Python 3.10 is required for the Rasa environment and none was found (tried \`pyenv prefix 3.10.13\` and python3.10 on PATH): install it, e.g. \`pyenv install 3.10.13\`, or set RASA_PYTHON." >&2; exit 1; }
	$(RASA_PYTHON) -m venv $(RASA_VENV)
	$(RASA_BIN)/pip install --quiet -r requirements-rasa.txt
	touch $@

# Retrained only when the training data, the config or the tokenizer change; the seeds are in config.yml.
# Its long log goes to a file, so that it does not bury the main environment's progress built beside it.
RASA_TRAIN_LOG := var/rasa/train.log
$(RASA_MODEL): $(RASA_INSTALLED) $(RASA_TRAINING)
	@mkdir -p $(dir $@)
	@echo "Training the Rasa model (a few minutes; log in $(RASA_TRAIN_LOG))"
	@$(RASA_ENV) $(RASA_BIN)/rasa train --force --config config.yml --domain nlu_data/domain.yml \
		--data nlu_data/train --out $(dir $@) --fixed-model-name $(basename $(basename $(notdir $@))) \
		> $(RASA_TRAIN_LOG) 2>&1 || { tail -n 40 $(RASA_TRAIN_LOG) >&2; echo "Rasa training failed: $(RASA_TRAIN_LOG)" >&2; exit 1; }
	@touch $@
	@echo "Rasa model trained: $@"

rasa-model: $(RASA_MODEL)

# The dialogue by hand, each in its own terminal next to `citizenbot serve` (see actions/README.md).
rasa-actions: setup
	$(RASA_ENV) SANIC_HOST=127.0.0.1 $(RASA_BIN)/python -m rasa_sdk --actions actions.dialogue --port 5055

rasa-serve: setup
	$(RASA_ENV) $(RASA_BIN)/rasa run --enable-api --model $(RASA_MODEL) --endpoints endpoints.yml \
		--interface 127.0.0.1 --port 5005

# Gateway, Rasa server and action server under one supervisor, logs prefixed; Ctrl-C stops them all.
run: setup
	$(BIN)/citizenbot run

# The browser tests drive Debian's headless chromium through its chromium-driver (Selenium, in .[dev]).
BROWSER := /usr/bin/chromedriver
$(BROWSER):
	@command -v apt-get >/dev/null || { echo "Install Debian's chromium and chromium-driver for the browser tests." >&2; exit 1; }
	$(if $(filter 0,$(shell id -u)),,sudo) apt-get update -qq
	$(if $(filter 0,$(shell id -u)),,sudo) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver

browser: $(BROWSER)

test: setup $(BROWSER)
	$(BIN)/ruff check bot voice tests bench actions
	$(BIN)/python -m pytest

eval: setup
	$(BIN)/citizenbot export-heldout var/eval/faq_heldout.jsonl
	$(BIN)/citizenbot eval --quiet --questions var/eval/faq_heldout.jsonl
	$(BIN)/citizenbot eval --quiet --questions knowledge/eval/citizen_questions.jsonl

bench: setup
	$(BIN)/python bench/retrieval.py

# 50 simulated citizens for 2 minutes against the scale-out configuration (PostgreSQL and Redis on 127.0.0.1).
bench-load: setup
	$(BIN)/python bench/load.py

# Intent and entity F1 of the Rasa model on the held-out split nlu_data/tests/nlu_heldout.yml.
nlu-quality: setup
	$(BIN)/python bench/nlu_quality.py

clean:
	rm -rf $(VENV) $(RASA_VENV) var
