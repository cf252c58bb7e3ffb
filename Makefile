# PillPal's verbs. Everything runs from the project's own virtualenv (.venv), built on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PACKAGES := $(wildcard shared/pyproject.toml services/*/pyproject.toml tools/pyproject.toml)

.PHONY: help venv run test test-unit lint format migrate bench demo up down box clean

help:
	@echo "make run      start the whole system on this machine (gateway on http://127.0.0.1:8080)"
	@echo "make test     run every test (needs MariaDB/MySQL and the mosquitto binary, or Docker)"
	@echo "make migrate  bring every service's schema to head (DATABASE_URL / DB_* or the SQLite default)"
	@echo "make bench    run the benchmarks under bench/ and print their figures"
	@echo "make demo     a narrated run: a simulated pillbox and a scripted app user"
	@echo "make lint     ruff check and format check"
	@echo "make up/down  the production topology with docker compose"
	@echo "make box      register a pillbox with its own credentials in the compose deployment (BOX=\"--hw-model pi-zero\")"

venv: $(VENV)/.installed

$(VENV)/.installed: requirements-dev.txt $(PACKAGES)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

run: venv
	$(PY) -m pillpal_shared.devrun

test: venv
	$(PY) -m pytest -q

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

migrate: venv
	$(VENV)/bin/pillpal-migrate

bench: venv
	$(PY) -m bench

demo: venv
	$(PY) -m pillpal_tools.demo

up:
	docker compose up -d --build

down:
	docker compose down

# A box with its own MQTT credentials: registered in the database and the broker's password file, then
# the broker rereads that file. Prints the box id, its MQTT password and its pairing code (shown once).
box:
	docker compose run --rm pillpal-device register $(BOX)
	docker compose kill -s SIGHUP mosquitto

clean:
	rm -rf $(VENV) var
