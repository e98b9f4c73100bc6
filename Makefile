.PHONY: run test lint

run:  ## Run the product: web + worker + beat (SQLite and the embedded broker by default)
	scripts/run

test:  ## Run the whole test suite
	scripts/test

lint:  ## Format check, lint and type check
	scripts/venv dev
	.venv/bin/ruff format --check .
	.venv/bin/ruff check .
	.venv/bin/mypy .
