# One-command entry points. `make demo` is the main job, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PROJECT := Proj_123456_654321
DATA ?= data
SMALL_DATA := data_small

.PHONY: setup demo test data train clean-data

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

# The full stand-in data set (50,000 training pairs, 1,000 validation pairs); never overwrites existing files.
$(DATA)/train_data.pkl: | setup
	$(PY) -m $(PROJECT).Miniproject_2.others.build_data --out $(DATA)

data: $(DATA)/train_data.pkl

# Evaluate the shipped bestmodel.pth, train one epoch, print PSNR and epoch time: the autograder's checks.
demo: setup $(DATA)/train_data.pkl
	$(PY) test.py -p $(PROJECT) -d $(DATA)

$(SMALL_DATA)/train_data.pkl: | setup
	$(PY) -m $(PROJECT).Miniproject_2.others.build_data --out $(SMALL_DATA) --train 2000 --val 200 --quiet

# Unit tests, then the harness on a small data set.
test: setup $(SMALL_DATA)/train_data.pkl
	$(PY) -m pytest -q tests
	$(PY) test.py -p $(PROJECT) -d $(SMALL_DATA)

# Retrain the shipped model from scratch (see README for the time it takes).
train: setup $(DATA)/train_data.pkl
	$(PY) -m $(PROJECT).Miniproject_2.others.train --data $(DATA) --epochs $(or $(EPOCHS),20)
