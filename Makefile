# kefu — two commands: `make run` (everything, with demo data) and `make test`.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
PYTHON ?= $(shell command -v python3.10 || ls /root/.pyenv/versions/3.10.*/bin/python3.10 2>/dev/null | tail -1)

# Runtime defaults (override in the environment; see README "Configuration").
export KEFU_SHOP_DB_URL ?= sqlite:///var/shop.db
export KEFU_HANDOFF_DB_URL ?= sqlite:///var/handoff.db
export KEFU_HANDOFF_URL ?= http://127.0.0.1:8080
export KEFU_RASA_URL ?= http://127.0.0.1:5005
export KEFU_RASA_TOKEN ?= dev-rasa-token
export KEFU_BOT_SECRET ?= dev-bot-secret
export KEFU_ACTIONS_WEBHOOK ?= http://127.0.0.1:5055/webhook
export KEFU_TRACKER_DB ?= var/rasa_tracker.db
export TF_CPP_MIN_LOG_LEVEL ?= 2
export RASA_TELEMETRY_ENABLED ?= false
export SQLALCHEMY_SILENCE_UBER_WARNING ?= 1

.PHONY: run test train shell install demo-data validate test-stories pytest browser evaluate review reload clean

## install: venv with pinned dependencies (Python 3.10 required)
install: $(VENV)/.installed
$(VENV)/.installed: requirements.in constraints.txt pyproject.toml
	@if [ -z "$(PYTHON)" ]; then \
	  echo "Python 3.10 is required (Rasa 3.6 supports 3.8-3.10)."; \
	  echo "Install it with 'pyenv install 3.10' or 'apt-get install python3.10 python3.10-venv', or set PYTHON=/path/to/python3.10."; \
	  exit 1; fi
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q "pip<24.1" "setuptools==70.3.0" wheel
	$(PY) -m pip install -q -r requirements.in -c constraints.txt
	$(PY) -m pip install -q --no-deps -e .
	@mkdir -p var models reports
	touch $@

## train: retrain models/kefu.tar.gz when data/, config.yml, domain.yml or bot/ changed
train: install
	$(PY) -m bot.cli train

## demo-data: load the demo shop (first start only) and the demo agents
demo-data: install
	@mkdir -p var
	$(PY) -m actions.demo
	$(PY) -m handoff.seed

## run: set up everything and start Rasa, the action server and the handoff service
run: install demo-data train
	@echo ""
	@echo "  Storefront (shopper widget):  http://127.0.0.1:8080/"
	@echo "  Agent console:                http://127.0.0.1:8080/console   (demo agents: see README)"
	@echo "  Rasa REST channel:            $(KEFU_RASA_URL)/webhooks/rest/webhook"
	@echo ""
	@$(PY) -m actions.demo --sample
	@echo ""
	$(BIN)/honcho start -f Procfile

## shell: talk to the bot in the terminal (starts the action server alongside)
shell: install train
	@$(BIN)/rasa run actions --actions actions --port 5055 > var/actions-shell.log 2>&1 & \
	  trap "kill $$! 2>/dev/null" EXIT; \
	  $(BIN)/rasa shell -m models/kefu.tar.gz --endpoints endpoints.yml

## browser: Debian's chromium and CJK/emoji fonts for the browser tests
BROWSER_PACKAGES := chromium fonts-wqy-microhei fonts-noto-color-emoji
browser:
	@missing=$$(for p in $(BROWSER_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing $$missing (Debian packages for the browser tests)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi

## validate: errors fail here; unexpected warnings fail tests/test_data_validate.py
validate: install
	$(BIN)/rasa data validate --data data/nlu data/stories

test-stories: train
	$(BIN)/rasa test core --model models/kefu.tar.gz --stories tests/ --fail-on-prediction-errors --out reports/core

pytest: install browser train
	$(PY) -m pytest -q

## test: set up and run every check (data validation, test stories, pytest)
test: install browser train validate test-stories pytest

## review: export what the bot got wrong or was unsure of (PII masked) to reports/review/
review: install
	$(PY) -m bot.review

## reload: switch the running Rasa server to models/kefu.tar.gz without a restart
reload: train
	$(PY) -m bot.reload

## evaluate: held-out NLU figures, reports in reports/
evaluate: train
	$(PY) -m bot.cli evaluate

clean:
	rm -rf models reports var/*.db
