# implicit-reg: `make report` and `make test` create the environment they need.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
CONFIG ?= config/config.yaml
CORES  ?= all
ARGS   ?=
# Replicates of `make robustness` (empty: the configuration's `robustness_seeds`, 5).
SEEDS  ?=

export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: env report robustness test test-robustness test-slurm lint format benchmark dry-run config-docs clean

env: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

report: env
	$(BIN)/python -m implicit_reg.workflow.configcheck $(CONFIG)
	$(BIN)/python workflow/scripts/stale_lock.py --configfile $(CONFIG)
	$(BIN)/snakemake --cores $(CORES) --configfile $(CONFIG) $(ARGS)
	@echo "report: results/report/index.html"

# The configuration at SEEDS independent seeds in one DAG (replicate 0 is the report's
# run in results/; replicate r at seed + r in results/robustness/seed-<seed + r>/), then
# per claim the passes out of SEEDS: results/robustness/{claims.parquet,index.html}.
# The target comes first: `--configfile` and `--config` take every word after them.
robustness: env
	$(BIN)/python -m implicit_reg.workflow.configcheck $(CONFIG)
	$(BIN)/python -m implicit_reg.workflow.replicates $(CONFIG) $(SEEDS)
	$(BIN)/python workflow/scripts/stale_lock.py --configfile $(CONFIG)
	$(BIN)/snakemake robustness --cores $(CORES) --configfile $(CONFIG) $(ARGS) \
		$(if $(SEEDS),--config robustness_seeds=$(SEEDS))
	@echo "robustness: results/robustness/index.html"

dry-run: env
	$(BIN)/snakemake --dry-run --quiet rules --configfile $(CONFIG) $(ARGS)

test: env
	$(BIN)/python -m pytest $(ARGS)

# The end-to-end robustness test at 3 seeds (`make test` runs it at 2: one replicate
# beyond the smoke run it shares with the other workflow tests).
test-robustness: env
	IMPLICIT_REG_ROBUSTNESS_SEEDS=3 $(BIN)/python -m pytest -m workflow tests/test_robustness_workflow.py $(ARGS)

test-slurm: env
	bash cluster/start.sh
	$(BIN)/python -m pytest -m slurm tests/test_slurm.py $(ARGS)

lint: env
	$(BIN)/ruff check src workflow tests benchmarks
	$(BIN)/ruff format --check src workflow tests benchmarks
	$(BIN)/snakefmt --check workflow/Snakefile workflow/rules
	$(BIN)/snakemake --lint --configfile config/smoke.yaml

format: env
	$(BIN)/ruff check --fix src workflow tests benchmarks
	$(BIN)/ruff format src workflow tests benchmarks
	$(BIN)/snakefmt workflow/Snakefile workflow/rules

benchmark: env
	$(BIN)/python benchmarks/bench_workflow.py

config-docs: env
	$(BIN)/python -m implicit_reg.workflow.configdoc workflow/schemas/config.schema.yaml > config/README.md

clean:
	rm -rf results .snakemake
