# make demo: train the speaker recognition example on synthetic data (or DATA=...),
#            export it to TFLite (float32 and int8), and classify held-out clips.
# make test: the whole test suite (library, example, notebook) and lint.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXAMPLE := examples/speaker_recognition
DEMO_DIR ?= runs/demo
DATA ?=
EPOCHS ?= 15

.PHONY: demo chirp test lint format clean

$(STAMP): setup.cfg pyproject.toml $(EXAMPLE)/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e ".[test,dev]" -e "$(EXAMPLE)[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m speaker_recognition.demo --out $(DEMO_DIR) --epochs $(EPOCHS) \
		$(if $(DATA),--data-dir $(DATA),)

chirp: $(STAMP)
	$(BIN)/python examples/chirp_spectrogram.py --out demo_output

test: $(STAMP) lint
	$(BIN)/python -m pytest -n 2

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) demo_output runs build *.egg-info .pytest_cache .hypothesis
