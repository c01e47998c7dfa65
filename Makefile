# Quick start:  make train   (train the quick-start config on generated data)
#               make test    (run the test suite, as CI does)
#               make test-quick  (skip the end-to-end subprocess runs marked
#                            `slow`; same as PYTEST_ARGS='-m "not slow"')
#               make lint    (flake8, isort and yapf checks, as CI runs them)
#               make format  (isort and yapf rewrite the files in place)
# `make env` builds .venv once; later runs only check it is up to date.

PYTHON_BASE ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
# Built mmcv wheels are kept here, shared by every clone of the repository.
export UPERNET_MM_CACHE ?= $(HOME)/.cache/upernet_mm
PYTEST_ARGS ?=
ENV_STAMP := $(VENV)/.upernet_mm-env

.PHONY: env test test-quick lint format train clean-env

env: $(ENV_STAMP)

$(ENV_STAMP): setup.py requirements.txt requirements/*.txt tools/build_mmcv_wheel.sh
	@test -x $(PY) || $(PYTHON_BASE) -m venv $(VENV)
	$(PIP) install -q -U pip
	$(PIP) install -q -r requirements/build.txt
	@wheel=$$(tools/build_mmcv_wheel.sh $(PY)) && \
		echo "installing $$wheel" && $(PIP) install -q --no-deps "$$wheel"
	$(PIP) install -q -r requirements/mminstall.txt
	$(PIP) install -q -e '.[all]'
	$(PY) -c "import mmcv.ops, mmseg, mmpretrain, upernet_mm; print('upernet_mm', upernet_mm.__version__, 'with mmcv', mmcv.__version__, 'mmseg', mmseg.__version__)"
	@touch $@

test: env
	$(PY) -m pytest tests $(PYTEST_ARGS)

test-quick: env
	$(PY) -m pytest tests -m "not slow" $(PYTEST_ARGS)

# the Python files linted (settings in setup.cfg)
LINT_PATHS := setup.py upernet_mm tools tests configs

lint: env
	$(PY) -m flake8 $(LINT_PATHS)
	$(PY) -m isort --check-only --diff $(LINT_PATHS)
	$(PY) -m yapf --diff --recursive $(LINT_PATHS)

format: env
	$(PY) -m isort $(LINT_PATHS)
	$(PY) -m yapf --in-place --recursive $(LINT_PATHS)

train: env
	$(PY) tools/train.py configs/upernet_convnext.py

clean-env:
	rm -rf $(VENV)
