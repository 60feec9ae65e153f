# Every target sets itself up: a fresh machine needs only Python 3.11 and make.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# Models, caches and job files stay inside the checkout unless told otherwise.
export POSE_SERVICE_DATA_DIR ?= $(CURDIR)/.data
STAMP := $(VENV)/.installed

.PHONY: venv models validator chromium redis demo test lint bench clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

venv: $(STAMP)

# The pose .task bundle and Anny's cache, built once into the data folder.
models: venv
	$(BIN)/pose-service prepare

# The main job on an embedded default: render a synthetic 360 and analyse it.
demo: models
	$(BIN)/pose-service synth --trick 360 --out out/demo/spin360.mp4
	$(BIN)/pose-service analyze out/demo/spin360.mp4 --overlay
	$(BIN)/pose-service doctor

lint: venv
	$(BIN)/ruff check pose_service tests bench
	$(BIN)/mypy pose_service

# The Khronos glTF validator (npm) that tests/export/test_glb.py runs on result.glb; Debian's npm is installed
# when missing; skipped only where neither npm nor apt is available.
GLTF_VALIDATOR := $(POSE_SERVICE_DATA_DIR)/npm/node_modules/gltf-validator/package.json
$(GLTF_VALIDATOR):
	@command -v npm >/dev/null || (apt-get update -qq && apt-get install -y -qq nodejs npm) >/dev/null \
		|| echo "could not install Debian's npm (needs root and apt)"
	@if command -v npm >/dev/null; then \
		npm install --silent --no-audit --no-fund --prefix $(POSE_SERVICE_DATA_DIR)/npm gltf-validator@2.0.0-dev.3.10; \
	else echo "npm not found: the glTF validator test will be skipped"; fi

validator: $(GLTF_VALIDATOR)

# Debian's chromium for the browser tests (tests/web): Playwright drives it and never downloads a browser.
/usr/bin/chromium:
	@(apt-get update -qq && apt-get install -y -qq chromium) >/dev/null \
		|| echo "could not install Debian's chromium (needs root and apt): the browser tests will skip"

chromium: /usr/bin/chromium

# Debian's redis-server for the scale-out tests (tests/celery start it themselves on a free loopback port).
/usr/bin/redis-server:
	@(apt-get update -qq && apt-get install -y -qq redis-server) >/dev/null \
		|| echo "could not install Debian's redis-server (needs root and apt): the Celery tests will skip"

redis: /usr/bin/redis-server

# The suite in TEST_JOBS processes, each test file whole in one of them (its session fixtures made once there): the
# clips are rendered and analysed on one core each, so two take 11-14 minutes where one took 23 on 2 cores.
TEST_JOBS ?= 2
test: models lint validator chromium redis
	$(BIN)/python -m pytest -n $(TEST_JOBS) --dist loadfile

bench: models
	$(BIN)/python bench/run.py
	$(BIN)/python bench/pose_recall.py

clean:
	rm -rf $(VENV) .data out
