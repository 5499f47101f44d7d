# One-command entry points. `make demo` is the main job, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PROJECT := Proj_123456_654321
DATA ?= data
SMALL_DATA := data_small

.PHONY: setup demo test data train

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

# The training data of the shipped model: the bundled photos plus Debian's wallpapers (needs apt-get),
# validation set identical to $(DATA)'s; train_clean.pkl is for the Noise2Clean comparison.
PHOTOS := photos
TRAIN_DATA := data_diverse

$(PHOTOS)/.fetched: | setup
	$(PY) -m $(PROJECT).Miniproject_2.others.fetch_photos --out $(PHOTOS)
	touch $@

$(TRAIN_DATA)/train_data.pkl: $(PHOTOS)/.fetched
	$(PY) -m $(PROJECT).Miniproject_2.others.build_data --out $(TRAIN_DATA) --train-images $(PHOTOS) --with-clean

# Retrain the shipped model from scratch with Model()'s defaults (see README for the time it takes).
train: setup $(TRAIN_DATA)/train_data.pkl
	$(PY) -m $(PROJECT).Miniproject_2.others.train --data $(TRAIN_DATA) --epochs $(or $(EPOCHS),20)
