# The two commands of the README, and a few helpers.
.PHONY: up test lint bench infra-up infra-down

up:            ## run the embedded stack with demo data (http://127.0.0.1:8000-8004, 8006)
	scripts/bootstrap.sh
	uv run --frozen --no-dev gridgov up

test:          ## provision Kafka + PostGIS locally and run every test suite on both stacks
	scripts/test.sh

lint:
	uv run --frozen ruff check .

infra-up:
	deploy/local/up.sh

infra-down:
	deploy/local/down.sh
