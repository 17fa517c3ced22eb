# Climate Networks Atlas — two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8501
# this machine only; ADDRESS=0.0.0.0 shares the dashboard on the network
ADDRESS ?= 127.0.0.1

.PHONY: run test install install-test browser lint lint-js format validate geocode geocode-offline export notebook bench loadtest clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-install only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

## Start the dashboard on the shipped data at http://localhost:$(PORT)
run: install
	$(BIN)/python -m dashboard validate || echo "The data has problems (listed above); the dashboard shows them and leaves those rows out."
	$(BIN)/python -c "from dashboard.assets import ensure_static_assets; ensure_static_assets()"
	$(BIN)/python -m streamlit run dashboard/app.py --server.port $(PORT) --server.address $(ADDRESS)

## Debian's Chromium and a Japanese font for the browser tests (apt-get, only when missing)
browser:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q chromium fonts-noto-cjk \
	  || { echo "Could not install chromium with apt-get"; [ "$$CI" != "true" ] || exit 1; }; \
	fi

## ESLint for the map's browser code (npm, pinned in package-lock.json; Node.js 20 or newer)
node_modules/.installed: package-lock.json
	@command -v npm >/dev/null || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q nodejs npm; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

lint-js: node_modules/.installed
	npx --no-install eslint --max-warnings 0 dashboard/atlasmap/browser

## The whole suite, browser tests included
test: install-test browser lint-js
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format:
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

validate: install
	$(BIN)/python -m dashboard validate

## Rebuild data/geocoded.csv with no network (city precision from the gazetteer)
geocode-offline: install
	$(BIN)/python -m geocoding --offline

## Refresh coordinates from Nominatim (needs internet and ATLAS_GEOCODER_USER_AGENT)
geocode: install
	$(BIN)/python -m geocoding

export: install
	$(BIN)/python -m dashboard export --out briefing.html

notebook: install
	$(BIN)/python -m pip install --quiet -e ".[notebook]"
	-$(BIN)/nbstripout --install  # strip outputs when the notebook is committed (.gitattributes)
	$(BIN)/python -m jupyter lab notebooks/explainer.ipynb

bench: install-test browser
	$(BIN)/python -m bench

loadtest: install-test browser
	ATLAS_LOADTEST=full $(BIN)/python -m pytest -m load -p no:randomly tests/test_load.py

clean:
	rm -rf dashboard/static .pytest_cache .ruff_cache node_modules
