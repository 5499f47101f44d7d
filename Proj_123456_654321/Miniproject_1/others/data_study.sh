#!/usr/bin/env bash
# What the training data can still give the U-Net (issue 41): the shipped shape from random weights, EPOCHS
# epochs on 20,000-pair mixes that differ in one lever each, then its PSNR on data/'s validation pairs (in the
# record) and at a few noises of the robustness evaluation. Run from the repository root after building the
# mixes (see docs/unet.md for the commands and the figures):
#   [EPOCHS=3] [SEED=0] bash Proj_123456_654321/Miniproject_1/others/data_study.sh NAME:DATA...
# (e.g. plain:data_study); SEED seeds the initial weights and the order of the pairs.
set -euo pipefail
PY=${PY:-.venv/bin/python}
EPOCHS=${EPOCHS:-3}
SEED=${SEED:-0}
RESULTS=Proj_123456_654321/Miniproject_1/others/results/data_study
RUNS=runs/unet-data-study
mkdir -p "$RESULTS" "$RUNS"
for run in "$@"; do
    name=${run%%:*}; data=${run#*:}
    rm -f "$RESULTS/$name.json" "$RUNS/$name.pth"
    $PY -m Proj_123456_654321.Miniproject_1.others.train --data "$data" --epochs "$EPOCHS" --seed "$SEED" --threads 2 \
        --out "$RUNS/$name.pth" --history "$RESULTS/$name.json" | tee "$RESULTS/$name.log"
    for sets in "--data data_gaussian --noises gaussian-5 gaussian-10 gaussian-25" \
            "--data data --photos photos_val --noises pixelation-2 pixelation-8 pixelation-16"; do
        # shellcheck disable=SC2086  # $sets is a list of options
        $PY -m Proj_123456_654321.Miniproject_2.others.robustness candidate "unet-$name" "$RUNS/$name.pth" $sets \
            --force --model-class Proj_123456_654321.Miniproject_1.model:Model --results "$RESULTS/robustness.json"
    done
done
# The table of every run so far (results/data_study/summary.md): data/'s validation PSNR after each epoch, then
# the robustness rows.
$PY - "$RESULTS" <<'PYTHON' | tee "$RESULTS/summary.md"
import json, pathlib, sys
results = pathlib.Path(sys.argv[1])
rows = json.loads((results / 'robustness.json').read_text())['rows']
noises = ('gaussian-5', 'gaussian-10', 'gaussian-25', 'pixelation-2', 'pixelation-8', 'pixelation-16')
print('| run | pairs | data/ after each epoch (dB) | ' + ' | '.join(noises) + ' |')
print('|---' * (3 + len(noises)) + '|')
for path in sorted(results.glob('*.json'), key=lambda path: path.stat().st_mtime):
    if path.name == 'robustness.json':
        continue
    record = json.loads(path.read_text())
    psnr = {row['noise']: row['psnr_db'] for row in rows if row['method'] == f'unet-{path.stem}'}
    epochs = ', '.join(f"{epoch['val_psnr']:.2f}" for epoch in record['history'])
    print(f"| {path.stem} | {record['data']} | {epochs} | "
          + ' | '.join(f"{psnr[noise]:.2f}" if noise in psnr else '–' for noise in noises) + ' |')
PYTHON
