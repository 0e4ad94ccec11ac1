# The two commands of the README, and the rest. Each target sets up what it needs first.
.PHONY: setup demo test test-unit test-deploy bench clean-demo

setup:
	@bash scripts/setup.sh

demo: setup
	.venv/bin/drill demo --dir demo
	.venv/bin/drill dashboard --catalog demo/catalog.yaml --users demo/users.yaml

test: setup
	.venv/bin/pytest -q tests --ignore=tests/deploy

# The compose stack, built and run for real (slower: builds the app image).
test-deploy: setup
	.venv/bin/pytest -q tests/deploy

test-unit: setup
	.venv/bin/pytest -q tests/unit

# Each benchmark writes its section of docs/benchmarks.md. The first run generates the 100 MB,
# 1 GB and 4 GB dumps, benchmarks.engines its 1 GB MariaDB and SQLite backups and benchmarks.files its
# archives of scans (about 25 minutes, cached in ~/.cache/restore-drill/bench).
bench: setup
	.venv/bin/python -m benchmarks.drill_vs_script
	.venv/bin/python -m benchmarks.scale
	.venv/bin/python -m benchmarks.profile_drill
	.venv/bin/python -m benchmarks.queue_path
	.venv/bin/python -m benchmarks.scheduler_tick
	.venv/bin/python -m benchmarks.dashboard
	.venv/bin/python -m benchmarks.evidence
	.venv/bin/python -m benchmarks.fingerprints
	.venv/bin/python -m benchmarks.physical
	.venv/bin/python -m benchmarks.engines
	.venv/bin/python -m benchmarks.files
	.venv/bin/python -m benchmarks.night

clean-demo:
	rm -rf demo
