# echo.platform entry points. Newcomers need two: `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
ACTIVATE := export PATH="$(CURDIR)/$(VENV)/bin:$$PATH" VIRTUAL_ENV="$(CURDIR)/$(VENV)";
STAMP := $(VENV)/.setup-done

.PHONY: help setup test demo demo-down lint sanity unit charts e2e integration molecule \
        testenv-build testenv-up testenv-down testenv-status bench clean docs

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

setup: ## Python >= 3.12 venv, pinned requirements, collections, helm/kubectl/k6, test tools (idempotent)
	@scripts/setup

test: setup ## Every test CI runs (lint, sanity, unit, charts, docs, e2e, integration, molecule); prints a summary
	@$(ACTIVATE) scripts/test all

demo: setup ## Start the local rehearsal environment and run site.yml -i inventories/local end to end
	@$(ACTIVATE) scripts/demo

demo-down: ## Stop everything `make demo` started
	@$(ACTIVATE) testenv/bin/testenv down

lint: setup ## yamllint + ansible-lint (production profile) + actionlint (.github/workflows) + antsibull-docs lint
	@$(ACTIVATE) scripts/test lint

sanity: setup ## ansible-test sanity on the collection (no ignore entries)
	@$(ACTIVATE) scripts/test sanity

unit: setup ## pytest unit tests (no network)
	@$(ACTIVATE) scripts/test unit

charts: setup ## helm lint/template for every environment and render checks
	@$(ACTIVATE) scripts/test charts

docs: setup ## The collection's HTML documentation site (antsibull-docs + Sphinx, offline) in build/docs
	@$(ACTIVATE) scripts/docs

e2e: setup ## end-to-end pytest suites against the running rehearsal environment
	@$(ACTIVATE) scripts/test testenv-up e2e

integration: setup ## ansible-test integration targets against the rehearsal environment
	@$(ACTIVATE) scripts/test testenv-up integration

molecule: setup ## molecule scenarios against the rehearsal environment
	@$(ACTIVATE) scripts/test testenv-up molecule

testenv-build: setup ## Build the rehearsal environment's binaries (cached outside the repo)
	@$(ACTIVATE) testenv/bin/testenv build

testenv-up: setup ## Start the local rehearsal environment
	@$(ACTIVATE) testenv/bin/testenv up

testenv-down: ## Stop the local rehearsal environment (by PID files)
	@$(ACTIVATE) testenv/bin/testenv down

testenv-status: ## Show what runs in the local rehearsal environment
	@$(ACTIVATE) testenv/bin/testenv status

bench: setup ## Run every benchmark in bench/ (prints figures)
	@$(ACTIVATE) for b in bench/*; do [ -f "$$b" ] && [ -x "$$b" ] && { echo "== $$b"; "$$b" || exit 1; }; done

clean: ## Remove the venv and test outputs (build caches outside the repo stay)
	rm -rf $(VENV) .testenv collections/ansible_collections/echo/platform/tests/output .pytest_cache build/docs
