# acd117 — every target builds its own virtual environment on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo simulate test bench lint venv clean prompts

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/acd117 run --simulate

simulate: $(STAMP)
	$(BIN)/acd117 simulate --hours 24

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python tests/bench/run.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy acd escalation config ari recording

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info

# Placeholder Indonesian recordings of every announcement (needs espeak-ng and sox).
prompts: $(STAMP)
	@command -v espeak-ng >/dev/null && command -v sox >/dev/null || { \
	  echo "prompts need espeak-ng and sox: sudo apt install espeak-ng sox"; exit 1; }
	$(BIN)/acd117 prompts --out build/sounds
