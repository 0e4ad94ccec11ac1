# The two commands of the README, and the rest. Each target sets up what it needs first.
.PHONY: setup demo test test-unit bench clean-demo

setup:
	@bash scripts/setup.sh

demo: setup
	.venv/bin/drill demo --dir demo

test: setup
	.venv/bin/pytest -q tests

test-unit: setup
	.venv/bin/pytest -q tests/unit

bench: setup
	.venv/bin/python -m benchmarks.drill_vs_script

clean-demo:
	rm -rf demo
