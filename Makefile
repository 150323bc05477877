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

# Front-end assets: GOV.UK Frontend and MoJ Frontend, pinned in package.json and
# package-lock.json. `npm ci` runs when node_modules is missing or older than the lock (its
# stamp); their CSS, fonts and images are then copied to $(VENDOR) (not committed), served at
# /static/vendor/. No JavaScript is copied: the pages need none.
NPM_STAMP := node_modules/.iom-installed
VENDOR    := src/iom/web/static/vendor
VENDORED  := $(VENDOR)/.copied
GOVUK     := node_modules/govuk-frontend/dist/govuk
MOJ       := node_modules/@ministryofjustice/frontend/moj

$(NPM_STAMP): package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "make install: npm is not installed. Install Node.js and npm (Debian: apt-get install nodejs npm, or run scripts/system-deps), then run make install again." >&2; exit 1; }
	npm ci --no-audit --no-fund
	touch $(NPM_STAMP)

# The stylesheets ask for /assets/...; rewritten to assets/..., relative to the stylesheet.
$(VENDORED): $(NPM_STAMP)
	rm -rf $(VENDOR)
	mkdir -p $(VENDOR)/assets/fonts $(VENDOR)/assets/images
	cp $(GOVUK)/assets/fonts/* $(VENDOR)/assets/fonts/
	cp $(MOJ)/assets/images/* $(VENDOR)/assets/images/
	cp $(GOVUK)/assets/images/* $(VENDOR)/assets/images/
	sed 's#url(/assets/#url(assets/#g; s@/[*]# sourceMappingURL=[^*]*[*]/@@' $(GOVUK)/govuk-frontend.min.css > $(VENDOR)/govuk-frontend.min.css
	sed 's#url(/assets/#url(assets/#g; s@/[*]# sourceMappingURL=[^*]*[*]/@@' $(MOJ)/moj-frontend.min.css > $(VENDOR)/moj-frontend.min.css
	touch $(VENDORED)

install: $(STAMP) $(VENDORED)

HOST ?= 127.0.0.1
PORT ?= 8000

## run: set up, build the default synthetic force, score it, write the report, serve the app
# On one machine for a demonstration: the development secret and audit key (public, labelled as
# such). A force sets IOM_ENV=production, IOM_SECRET_KEY and IOM_AUDIT_KEY instead.
run: export IOM_ENV ?= development
run: install
	$(BIN)/iom init
	$(BIN)/iom synth --seed 1 --replace
	$(BIN)/iom summary
	$(BIN)/iom score --train
	COLUMNS=$${COLUMNS:-160} $(BIN)/iom select --npu all --top 5
	$(BIN)/iom report --out reports
	$(BIN)/iom mappa due --summary
	$(BIN)/iom plan overdue --summary
	$(BIN)/iom check lead-agency
	$(BIN)/iom da list --summary
	COLUMNS=$${COLUMNS:-160} $(BIN)/iom oocd volumes --fy 2017 --fy 2018
	COLUMNS=$${COLUMNS:-160} $(BIN)/iom courses completion
	$(BIN)/iom cohort officers --summary
	$(BIN)/iom cohort reset-review --summary
	$(BIN)/iom breach queue --summary
	$(BIN)/iom users demo
	IOM_ENV=development $(BIN)/iom serve --host $(HOST) --port $(PORT)

## test: set up (with test extras) and run the whole suite
test: install
	scripts/system-deps
	$(BIN)/python -m pytest -n 2

## bench: benchmarks at default and national scale (prints measured figures)
bench: export IOM_ENV ?= development
bench: install
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) iom.db iom.db-wal iom.db-shm reports test-artifacts build *.egg-info src/*.egg-info
