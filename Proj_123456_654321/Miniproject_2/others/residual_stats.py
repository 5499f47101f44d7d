"""How close a validation set's degradation is to the course's: statistics of its residual ``noisy − clean``.

    python -m Proj_123456_654321.Miniproject_2.others.residual_stats DIR [DIR ...]

Reads ``DIR/val_data.pkl`` (noisy, clean) of each folder, the course's own included, and prints, beside the
figures measured on the course's real validation pairs (``COURSE``, from ``shared/CONTRACT.md``), the
residual's statistics on the 0–255 scale: the noisy input's PSNR (the harness's definition), its standard
deviation and kurtosis (Pearson's: 3 for a Gaussian), the fractions of residuals exactly 0, within ±5 and
beyond ±50, the correlation of the R and G (R and B) residuals, of horizontally adjacent residuals, and the
fraction of noisy values at 0. ``GOAL_STATISTICS`` are those a stand-in should match within ``TOLERANCE``
(relative), with the noisy input's PSNR within ``PSNR_TOLERANCE_DB`` of the course's full set.
"""
import argparse

import numpy as np

from .data import load_val

# Measured on a sample of 99 of the course's real validation pairs (shared/CONTRACT.md; their noisy input
# scores 21.1 dB, the full set's 20.72 dB, the figure given here). An earlier sample of 11, less noisy (22.0 dB),
# gave 21.8, 13.5, 10 %, 47 %, 4.1 %, 0.91 / 0.85, 0.01 and 3.9 %.
COURSE = {'psnr_db': 20.72, 'std': 26.0, 'kurtosis': 11.4, 'zero_pct': 9.0, 'within5_pct': 46.0,
          'beyond50_pct': 6.7, 'corr_rg': 0.91, 'corr_rb': 0.78, 'corr_adjacent': 0.00, 'noisy_at_0_pct': 1.4}
LABELS = {'psnr_db': 'noisy-input PSNR (dB)', 'std': 'standard deviation', 'kurtosis': 'kurtosis',
          'zero_pct': 'exactly 0 (%)', 'within5_pct': 'within ±5 (%)', 'beyond50_pct': 'beyond ±50 (%)',
          'corr_rg': 'correlation R–G', 'corr_rb': 'correlation R–B', 'corr_adjacent': 'correlation of neighbours',
          'noisy_at_0_pct': 'noisy values at 0 (%)'}
GOAL_STATISTICS = ('std', 'kurtosis', 'zero_pct', 'within5_pct', 'beyond50_pct', 'corr_rg', 'corr_rb')
TOLERANCE = 0.10
PSNR_TOLERANCE_DB = 0.5


def _correlation(a, b):
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def residual_statistics(noisy, clean):
    """The statistics of ``LABELS`` for uint8 images ``[N, 3, H, W]`` (arrays or tensors)."""
    noisy = np.asarray(noisy).astype(np.float64)
    residual = noisy - np.asarray(clean)
    values = residual.ravel()
    mean_squared = (residual / 255) ** 2
    # The harness's PSNR: per image, then the mean; an image equal to its clean version counts as 100 dB.
    per_image = -10 * np.log10(np.maximum(mean_squared.mean((1, 2, 3)), 1e-10))
    centred = values - values.mean()
    std = float(centred.std())
    return {'psnr_db': float(per_image.mean()), 'std': std,
            'kurtosis': float((centred ** 4).mean() / std ** 4) if std > 0 else float('nan'),
            'zero_pct': 100 * float(np.mean(values == 0)),
            'within5_pct': 100 * float(np.mean(np.abs(values) <= 5)),
            'beyond50_pct': 100 * float(np.mean(np.abs(values) > 50)),
            'corr_rg': _correlation(residual[:, 0], residual[:, 1]),
            'corr_rb': _correlation(residual[:, 0], residual[:, 2]),
            'corr_adjacent': _correlation(residual[..., :-1], residual[..., 1:]),
            'noisy_at_0_pct': 100 * float(np.mean(noisy == 0))}


def within_goal(key, value):
    """Whether ``value`` of the statistic ``key`` is close enough to the course's (None: no goal for it)."""
    if key == 'psnr_db':
        return abs(value - COURSE[key]) <= PSNR_TOLERANCE_DB
    if key in GOAL_STATISTICS:
        return abs(value / COURSE[key] - 1) <= TOLERANCE
    return None


def comparison_table(statistics):
    """Markdown: one row per statistic, the course's figure, then each set's ``{name: statistics}`` with its
    relative difference to the course's (dB for the PSNR) and ✓ / ✗ where the goal applies."""
    names = list(statistics)
    lines = ['| statistic of noisy − clean | course | ' + ' | '.join(names) + ' |',
             '|---|---|' + '---|' * len(names)]
    for key, label in LABELS.items():
        cells = [label, f'{COURSE[key]:g}']
        for name in names:
            value = statistics[name][key]
            # Absolute where the course's figure is 0 (a relative difference would divide by it).
            difference = (f'{value - COURSE[key]:+.2f} dB' if key == 'psnr_db'
                          else f'{value - COURSE[key]:+.2f}' if COURSE[key] == 0
                          else f'{100 * (value / COURSE[key] - 1):+.0f} %')
            verdict = {True: ' ✓', False: ' ✗', None: ''}[within_goal(key, value)]
            cells.append(f'{value:.2f} ({difference}){verdict}')
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def goal_summary(statistics):
    """One line: which statistics of one set miss the goal."""
    missed = [LABELS[key] for key in ('psnr_db', *GOAL_STATISTICS) if not within_goal(key, statistics[key])]
    return 'all within the goal' if not missed else 'outside the goal: ' + ', '.join(missed)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('data', nargs='+', help='folders with val_data.pkl')
    arguments = parser.parse_args(argv)
    statistics = {}
    for folder in arguments.data:
        try:
            noisy, clean = load_val(folder)
        except (OSError, ValueError) as error:
            parser.exit(1, f"residual_stats: error: {error}\n")
        statistics[folder] = residual_statistics(noisy, clean)
    print(comparison_table(statistics))
    for folder, values in statistics.items():
        print(f'{folder}: {goal_summary(values)} (within {TOLERANCE:.0%} of the course\'s; PSNR within '
              f'{PSNR_TOLERANCE_DB} dB)')
    return statistics


if __name__ == '__main__':
    main()
