.PHONY: run test lint setup demo screenshots
VENV := .venv/bin

setup:
	@bash tools/bootstrap.sh

run: setup
	@$(VENV)/python -m app run

demo: setup
	@$(VENV)/python -m app demo

lint: setup
	$(VENV)/ruff check app tests bench tools
	$(VENV)/ruff format --check app tests bench tools
	$(VENV)/mypy
	$(VENV)/lint-imports

test: lint
	xvfb-run -a -s "-screen 0 1600x1000x24" $(VENV)/pytest -q -p no:cacheprovider $(PYTEST_ARGS)

screenshots: setup
	xvfb-run -a -s "-screen 0 1600x1000x24" $(VENV)/python tools/screenshots.py
	PEERMEET_SCREENSHOTS=docs/screenshots xvfb-run -a -s "-screen 0 1600x1000x24" $(VENV)/pytest -q -p no:cacheprovider tests/ui/test_call_window.py -k real_call
