# acd117 — every target builds its own virtual environment on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo simulate test bench lint venv clean prompts lock

venv: $(STAMP)

# requirements.lock pins the versions the tests passed with (constraints: it adds nothing
# that pyproject.toml does not ask for).
$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

# After changing dependencies (pip install -U ... in .venv) and a green `make test`.
lock: $(STAMP)
	{ echo "# Versions acd117 is tested with: 'make venv' installs with these as constraints."; \
	  echo "# Refresh with 'make lock' (pip freeze of the tested .venv)."; \
	  $(BIN)/python -m pip freeze --exclude-editable; } > requirements.lock
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
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info

# Placeholder Indonesian recordings of every announcement (needs espeak-ng and sox).
prompts: $(STAMP)
	@command -v espeak-ng >/dev/null && command -v sox >/dev/null || { \
	  echo "prompts need espeak-ng and sox: sudo apt install espeak-ng sox"; exit 1; }
	$(BIN)/acd117 prompts --out build/sounds
