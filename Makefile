# Climate Networks Atlas — two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8501
# this machine only; ADDRESS=0.0.0.0 shares the dashboard on the network
ADDRESS ?= 127.0.0.1

.PHONY: run serve site test install install-test lock check-locks browser nginx wrk lint lint-js format validate geocode geocode-offline export notebook notebook-html bench loadtest fuzz clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python -c "import sys; v = sys.version_info[:2]; v == (3, 11) or print(f'note: the locks are made for Python 3.11; this is {v[0]}.{v[1]} (installing anyway)')"

# Installs come from the locks (locks/*.txt: exact versions, sha256 hashes), then the project itself
# with no dependencies and no build isolation (setuptools is in the lock). Each stamp is redone only
# when its lock or pyproject.toml changes; a lock that no longer matches pyproject.toml stops here.
define install_lock
	$(BIN)/python locks/lockfiles.py check $(1)
	$(BIN)/python -m pip install --quiet --require-hashes -r locks/$(1).txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
endef

$(VENV)/.installed: pyproject.toml locks/runtime.txt | $(BIN)/python
	$(call install_lock,runtime)
	touch $@

$(VENV)/.installed-test: pyproject.toml locks/test.txt | $(BIN)/python
	$(call install_lock,test)
	touch $(VENV)/.installed $@

$(VENV)/.installed-notebook: pyproject.toml locks/notebook.txt | $(BIN)/python
	$(call install_lock,notebook)
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

## Remake locks/*.txt with uv from pyproject.toml (needs PyPI). Keeps current pins where allowed;
## UPGRADE=1 takes the newest versions allowed, UPGRADE_PACKAGE=name just one package.
UV_VERSION := 0.13.9
TOOLS := .tools
$(TOOLS)/.uv-$(UV_VERSION):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet uv==$(UV_VERSION)
	touch $@

lock: $(TOOLS)/.uv-$(UV_VERSION)
	$(PYTHON) locks/lockfiles.py lock --uv $(TOOLS)/bin/uv $(if $(UPGRADE),--upgrade) \
	  $(foreach p,$(UPGRADE_PACKAGE),--upgrade-package $(p))

## Fails, naming the lock, when pyproject.toml's dependencies changed and `make lock` was not run
check-locks:
	@$(PYTHON) locks/lockfiles.py check

## Start the dashboard on the shipped data at http://localhost:$(PORT)
run: install
	$(BIN)/python -m dashboard validate || echo "The data has problems (listed above); the dashboard shows them and leaves those rows out."
	$(BIN)/python -c "from dashboard.atlasmap.assets import ensure_static_assets; ensure_static_assets()"
	$(BIN)/python -m dashboard.shell.server run dashboard/app.py --server.port $(PORT) --server.address $(ADDRESS)

## Debian's Chromium and a Japanese font for the browser tests (apt-get, only when missing)
browser:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q chromium fonts-noto-cjk \
	  || { echo "Could not install chromium with apt-get"; [ "$$CI" != "true" ] || exit 1; }; \
	fi

## ESLint for the browser code, and axe-core for the browser tests (npm, pinned in package-lock.json; Node.js 20 or newer)
node_modules/.installed: package-lock.json
	@command -v npm >/dev/null || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q nodejs npm; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

lint-js: node_modules/.installed
	npx --no-install eslint --max-warnings 0 dashboard/atlasmap/browser dashboard/shell/stage_frontend dashboard/shell/page_base dashboard/outputs/templates

## Debian's nginx for `make serve` and its tests (apt-get, only when missing). Its package may
## also start the system's own nginx service on port 80 where services start on install.
NGINX ?= /usr/sbin/nginx
nginx:
	@if [ ! -x $(NGINX) ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q nginx \
	  || { echo "Could not install nginx with apt-get"; [ "$$CI" != "true" ] || exit 1; }; \
	fi

## The dashboard as REPLICAS Streamlit processes behind nginx on $(PORT) (deploy/serve.py)
REPLICAS ?= 2
serve: install nginx
	$(BIN)/python -m dashboard validate || echo "The data has problems (listed above); the dashboard shows them and leaves those rows out."
	$(BIN)/python -c "from dashboard.atlasmap.assets import ensure_static_assets; ensure_static_assets()"
	$(BIN)/python deploy/serve.py --replicas $(REPLICAS) --port $(PORT) --address $(ADDRESS) --nginx $(NGINX)

## The static site: the whole atlas as HTML pages in site/ for any web server or CDN (no Python running)
site: install
	$(BIN)/python -m dashboard validate || echo "The data has problems (listed above); the site leaves those rows out."
	$(BIN)/python -m dashboard site --out site

## Debian's wrk, for the static site's requests per second in `make loadtest` (apt-get, only when
## missing; without it a bounded Python client measures, and says so)
WRK ?= /usr/bin/wrk
wrk:
	@if [ ! -x $(WRK) ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q wrk \
	  || echo "Could not install wrk with apt-get: the site's figure will come from a Python client"; \
	fi

## The whole suite, browser tests included
test: check-locks install-test browser nginx lint-js
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

## The explainer notebook in JupyterLab (as root too: --allow-root is added when the user is root)
notebook: install $(VENV)/.installed-notebook
	-$(BIN)/nbstripout --install  # strip outputs when the notebook is committed (.gitattributes)
	$(BIN)/python -m dashboard notebook

## Run the explainer notebook in Japanese and English and write notebooks/explainer.html (opens offline)
notebook-html: install $(VENV)/.installed-notebook
	$(BIN)/python -m dashboard notebook-html --out notebooks/explainer.html

bench: install-test browser
	$(BIN)/python -m bench

## The full load tests (about 25 minutes): the briefing room (50 attendees within 10 s, 2 replicas behind
## nginx, a replica killed mid-test), 15 minutes of sessions opening and closing, the static site under
## wrk: figures in bench/LOADTEST.md; then 20 browser sessions for 60 s against one server
loadtest: install-test browser nginx wrk
	$(BIN)/python -m bench.load
	ATLAS_LOADTEST=full $(BIN)/python -m pytest -m load -p no:randomly tests/test_load.py

## The data-file fuzzer's long run (5,000 mutations, ~15 min; `make test` runs 100)
fuzz: install-test
	ATLAS_FUZZ_EXAMPLES=5000 $(BIN)/python -m pytest -q tests/test_fuzz_data.py

clean:
	rm -rf dashboard/static .pytest_cache .ruff_cache node_modules
