# make demo: train the speaker recognition example on synthetic data (or DATA=...) with the
#            room recipe, export it to TFLite (float32 and int8), and classify held-out clips.
#            EPOCHS=N overrides the demo's number of epochs.
# make test: the whole test suite (library, example, notebook, docs build) and lint.
# make bench: throughput against peers, written to docs/benchmarks.md.
# make denoise: train the STFT -> mask -> InverseSTFT denoiser example and export it to TFLite.
# make notebook: run the training notebook in place, so the committed copy shows its outputs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXAMPLE := examples/speaker_recognition
DEMO_DIR ?= runs/demo
DATA ?=
EPOCHS ?=

.PHONY: demo chirp denoise test bench notebook docs lint format clean

$(STAMP): setup.cfg pyproject.toml $(EXAMPLE)/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e ".[test,dev,docs]" -e "$(EXAMPLE)[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m speaker_recognition.demo --out $(DEMO_DIR) \
		$(if $(EPOCHS),--epochs $(EPOCHS),) $(if $(DATA),--data-dir $(DATA),)

chirp: $(STAMP)
	$(BIN)/python examples/chirp_spectrogram.py --out demo_output

denoise: $(STAMP)
	$(BIN)/python examples/denoising/denoise.py --out denoise_output
	cp denoise_output/denoising.png docs/img/denoising.png

test: $(STAMP) lint
	$(BIN)/python -m pytest -n 2

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py --out docs

notebook: $(STAMP)
	$(BIN)/python $(EXAMPLE)/notebooks/run_notebook.py

docs: $(STAMP)
	$(BIN)/mkdocs build --strict --site-dir site

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) demo_output denoise_output runs build *.egg-info .pytest_cache .hypothesis
