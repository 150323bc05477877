# Every target creates and uses a local virtualenv (.venv); nothing is installed by hand.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test bench clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

HOST ?= 127.0.0.1
PORT ?= 8000

## run: set up, build the default synthetic force, score it, write the report, serve the app
run: install
	$(BIN)/iom init
	$(BIN)/iom synth --seed 1 --replace
	$(BIN)/iom summary
	$(BIN)/iom score --train
	COLUMNS=$${COLUMNS:-160} $(BIN)/iom select --npu all --top 5
	$(BIN)/iom report --out reports
	$(BIN)/iom users demo
	IOM_ENV=development $(BIN)/iom serve --host $(HOST) --port $(PORT)

## test: set up (with test extras) and run the whole suite
test: install
	scripts/system-deps
	$(BIN)/python -m pytest -n 2

## bench: benchmarks at default and national scale (prints measured figures)
bench: install
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) iom.db iom.db-wal iom.db-shm reports test-artifacts build *.egg-info src/*.egg-info
