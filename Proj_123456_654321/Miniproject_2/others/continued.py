"""Continued training, the autograder's case: what one ``train`` epoch does to the shipped model.

The grader calls ``Model()``, ``load_pretrained_model()``, then ``train(..., num_epochs=1)`` on its own photos
and measures the PSNR on validation images of the same kind. This script measures, for each mini-project and
each setting of how ``train`` continues from loaded weights (``Continuation``'s ``holdout``, and the other
options of ``continuation_options.py``):

(a) in-domain: PSNR on the validation pairs of an in-domain set before and after one epoch on its training
    pairs; both are cut from the same photos, which no shipped model was trained on (the grader's case)::

        python -m Proj_123456_654321.Miniproject_2.others.fetch_photos --collection in-domain --out photos_indomain
        python -m Proj_123456_654321.Miniproject_2.others.build_data --out data_indomain --same-photos photos_indomain

(b) cross-domain: the same on ``data_gaussian/`` (the first stand-in, σ 25), whose training photos are a
    narrow part of the shipped models' training photos and whose validation photos are others: what one epoch
    forgets; ``pixelation-cross-domain``, the same on ``data/``, the stand-in with the course's degradation;
(c) from scratch: ``Model()`` without loading, ``scratch --epochs N`` epochs on ``data_gaussian/`` (settings
    do not apply there: this shows that plain training is what it was);
(d) shifted in-domain sets (``make shifted-sets`` at commit c61896f, docs/history.md; ``make continued``
    builds the pixelated one): the in-domain photos with another degradation, in the
    training and the validation pairs alike, as a grader's could be: the course's pixelation
    (``pixelation``, ``build_data``'s default), Gaussian σ 65, the robustness evaluation's Poisson–Gaussian
    and correlated noises (``--sets``);
(e) along the change: ``interpolate`` trains plainly on all but ``HOLDOUT`` of the pairs (the pairs ``train``
    would hold out), then measures at each point ``loaded + α·(trained − loaded)`` of ``ALPHAS`` the
    noisy-to-noisy loss on the held-out pairs (what ``train`` can see) and the validation PSNR (what the
    grader sees), so that a rule choosing α from the first can be judged by the second.

Commands::

    python -m Proj_123456_654321.Miniproject_2.others.continued run --project 2 [SETTING ...] [--sets SET ...]
    python -m Proj_123456_654321.Miniproject_2.others.continued interpolate --project 2 [--sets SET ...]
    python -m Proj_123456_654321.Miniproject_2.others.continued scratch --project 2 [--epochs 3]
    python -m Proj_123456_654321.Miniproject_2.others.continued time --project 2 SETTING [SETTING ...]
    python -m Proj_123456_654321.Miniproject_2.others.continued summary

``run`` measures (a) and (b) for the named settings (all of them when none is named; ``--epochs 3
--in-domain-only`` measures how much more the in-domain set offers than one epoch takes) and ``scratch`` (c);
results go to each mini-project's ``others/results/continued/results.json`` after each measurement, and a measurement already there is
skipped unless ``--force``, so an interrupted run resumes. ``time`` alternates the settings on the same pairs,
round after round (every other round in reverse order), and records each one's epoch time relative to the
first (side by side, so that a busy machine slows all alike). ``summary`` writes ``results/continued/summary.md``
and ``continued.png`` (each setting's in-domain gain against its cross-domain loss, the goals dashed).
"""
import argparse
import dataclasses
import fcntl
import json
import statistics
import sys

from .benchmark import time_rounds
from .both_projects import model_module, parameters_of, results_folder
from .continuation_options import Options, experimental_model
from .data import load_train, load_val

# The comparison of both mini-projects (summary, plots) lives under Mini-project 2; each mini-project's
# measurements under its own results/continued/results.json, keyed 'mp1/...' or 'mp2/...'.
RESULTS_FOLDER = results_folder(2) / 'continued'
RESULTS_FILES = {project: results_folder(project) / 'continued' / 'results.json' for project in (1, 2)}
DOMAINS = {'pixelation': 'data_indomain_pixelated', 'pixelation-cross-domain': 'data',
           'in-domain': 'data_indomain', 'cross-domain': 'data_gaussian', 'sigma-65': 'data_indomain_sigma65',
           'poisson-gaussian': 'data_indomain_pg', 'correlated': 'data_indomain_correlated'}
SHIFTED = ('pixelation', 'sigma-65', 'poisson-gaussian', 'correlated')
SEED = 0
# interpolate's points along the change, and the fraction of the pairs it holds out.
ALPHAS = (0, 0.5, 1, 1.25, 1.5)
HOLDOUT = 0.02

# name: (family, fields of Continuation and of continuation_options.Options). 'today' is plain training, what
# train did before Continuation.
SETTINGS = {
    'today': ('today', {}),
    'rate-0.1': ('rate', {'lr_scale': 0.1}),
    'rate-0.03': ('rate', {'lr_scale': 0.03}),
    'warmup-average': ('warm-up, averaging', {'lr_scale': 0.1, 'warmup': 0.1, 'average': 0.5}),
    'anchor-300': ('anchor', {'lr_scale': 0.1, 'warmup': 0.1, 'average': 0.5, 'anchor': 300}),
    'anchor-1000': ('anchor', {'lr_scale': 0.1, 'warmup': 0.1, 'average': 0.5, 'anchor': 1000}),
    'blend-0.5': ('blend', {'lr_scale': 0.1, 'warmup': 0.1, 'average': 0.5, 'blend': 0.5}),
    'rate-0.3-blend-0.5': ('blend', {'lr_scale': 0.3, 'warmup': 0.1, 'average': 0.5, 'blend': 0.5}),
    'rate-0.3-blend-0.3': ('blend', {'lr_scale': 0.3, 'warmup': 0.1, 'average': 0.5, 'blend': 0.3}),
    'blend-0.3': ('blend', {'lr_scale': 0.1, 'warmup': 0.1, 'average': 0.5, 'blend': 0.3}),
    'anchor-100': ('anchor', {'lr_scale': 0.1, 'warmup': 0.1, 'average': 0.5, 'anchor': 100}),
    'full-rate-average': ('warm-up, averaging', {'warmup': 0.1, 'average': 0.5}),
    'full-rate-blend-0.5': ('blend', {'warmup': 0.1, 'average': 0.5, 'blend': 0.5}),
    'full-rate-blend-0.7': ('blend', {'warmup': 0.1, 'average': 0.5, 'blend': 0.7}),
    'blend-0.7': ('blend', {'lr_scale': 0.1, 'warmup': 0.1, 'average': 0.5, 'blend': 0.7}),
    'full-rate-blend-0.5-holdout': ('held-out choice', {'warmup': 0.1, 'average': 0.5, 'blend': 0.5,
                                                        'holdout': 0.02}),
    'blend-0.5-holdout': ('held-out choice', {'lr_scale': 0.1, 'warmup': 0.1, 'average': 0.5, 'blend': 0.5,
                                              'holdout': 0.02}),
    # Plain training, then the held-out choice along the change (what interpolate measures).
    'holdout': ('held-out choice', {'holdout': HOLDOUT}),
}
# The goals, drawn on the plot: (least in-domain gain, largest cross-domain loss), in dB.
GOALS = {1: (0.35, 0.2), 2: (0.2, 0.65)}


def load_results(projects=(1, 2)):
    """Every measurement of these mini-projects, by key."""
    results = {}
    for project in projects:
        path = RESULTS_FILES[project]
        results.update(json.loads(path.read_text()) if path.exists() else {})
    return results


def save_result(key, value):
    """Add one measurement (key ``mpN/...``) to its mini-project's results file (rewritten whole, through a
    temporary file), under a lock, so that several runs can go on at once."""
    project = int(key.split('/')[0][2:])
    path = RESULTS_FILES[project]
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.parent / '.lock', 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        results = load_results((project,))
        results[key] = value
        temporary = path.with_suffix('.tmp')
        temporary.write_text(json.dumps(dict(sorted(results.items())), indent=1) + '\n')
        temporary.replace(path)


def validation_psnr(module, model, validation):
    noisy, clean = validation
    return module.psnr(model.predict(noisy).div_(255), clean.float() / 255)


def shipped_model(module, setting=None):
    """The shipped model, loaded; with ``setting``, continuing as it says (``Continuation``'s ``holdout``, the
    rest ``continuation_options.Options``)."""
    if setting is None:
        model = module.Model()
    else:
        options = dict(SETTINGS[setting][1])
        model = experimental_model(module)()
        model.continuation = module.Continuation(holdout=options.pop('holdout', 0.0))
        model.options = Options(**options)
    model.load_pretrained_model()
    return model


def measure_continued(project, setting, domain, folder, epochs=1):
    """PSNR of the shipped model on ``folder``'s validation pairs before and after ``epochs`` epochs (one
    ``train`` call) on its training pairs, trained with ``setting``."""
    module = model_module(project)
    train_input, train_target = load_train(folder)
    validation = load_val(folder)
    model = shipped_model(module, setting)
    before = validation_psnr(module, model, validation)
    print(f"mp{project} {setting} {domain}: PSNR before {before:.3f} dB", flush=True)
    history = model.train(train_input, train_target, num_epochs=epochs, seed=SEED)
    after = validation_psnr(module, model, validation)
    print(f"mp{project} {setting} {domain}: PSNR after {after:.3f} dB ({after - before:+.3f})", flush=True)
    return {'before': before, 'after': after, 'gain': after - before, 'seconds': history[-1]['seconds'],
            'kept': history[-1].get('kept'), 'settings': SETTINGS[setting][1], 'pairs': len(train_input),
            'epochs': epochs}


def heldout_losses(module, model, noisy, other_noisy):
    """Each held-out pair's noisy-to-noisy squared error (mean over its values, [0, 1] scale) of one pass of
    the network, without the self-ensemble."""
    ensemble, model.self_ensemble = model.self_ensemble, False
    try:
        denoised = model.predict(noisy).div_(255)
    finally:
        model.self_ensemble = ensemble
    return (denoised - other_noisy.float() / 255).pow(2).flatten(1).mean(1)


def measure_interpolation(project, domain, folder):
    """``interpolate``'s measurement on one set (see the module docstring)."""
    import torch
    module = model_module(project)
    train_input, train_target = load_train(folder)
    validation = load_val(folder)
    order, heldout = module._split_heldout(len(train_input), HOLDOUT, SEED)
    model = shipped_model(module)
    model.continuation = module.Continuation()
    # The same pairs in the same order as train with this holdout: its shuffle permutes positions alike.
    history = model.train(train_input[order], train_target[order], num_epochs=1, seed=SEED)
    parameters = parameters_of(model)
    loaded = [weights.clone() for weights in model.loaded_weights]
    trained = [parameter.detach().clone() for parameter in parameters]
    losses, val_psnr = [], []
    for alpha in ALPHAS:
        with torch.no_grad():
            for parameter, start, end in zip(parameters, loaded, trained):
                parameter.copy_(start + alpha * (end - start))
        losses.append(heldout_losses(module, model, train_input[heldout], train_target[heldout]))
        val_psnr.append(validation_psnr(module, model, validation))
        print(f"mp{project} interpolate {domain}: α {alpha:g}  held-out loss {losses[-1].mean().item():.6f}  "
              f"val PSNR {val_psnr[-1]:.3f} dB", flush=True)
    # The resolution of the held-out comparison: the standard error of each point's mean loss minus the
    # loaded weights', over the held-out pairs.
    standard_errors = [((loss - losses[0]).std() / len(loss) ** 0.5).item() for loss in losses]
    return {'alphas': list(ALPHAS), 'heldout_loss': [loss.mean().item() for loss in losses],
            'heldout_standard_error': standard_errors, 'val_psnr': val_psnr, 'before': val_psnr[0],
            'seconds': history[-1]['seconds'], 'pairs': len(order), 'heldout_pairs': len(heldout)}


def interpolate(arguments):
    results = load_results()
    for domain in arguments.sets:
        key = f"mp{arguments.project}/interpolate/{domain}"
        if key in results and not arguments.force:
            print(f"{key}: done, skipped", flush=True)
            continue
        save_result(key, measure_interpolation(arguments.project, domain, folder_of(arguments, domain)))


def held_out_choice(project, result):
    """The α of the project's ``Continuation.KEEP`` whose held-out loss is smallest in an ``interpolate``
    result: what ``train``'s held-out choice keeps on that set."""
    keep = model_module(project).Continuation.KEEP
    losses = {alpha: loss for alpha, loss in zip(result['alphas'], result['heldout_loss']) if alpha in keep}
    return min(losses, key=losses.get)


def interpolation_lines(results):
    """The table of ``interpolate``'s measurements: per project and set, the plain epoch's gain (α = 1), what
    the held-out choice keeps and gains, and the best α by the validation PSNR (which train cannot see)."""
    lines = ['', '## Along the change: plain training, then the held-out choice', '',
             f'`interpolate`: plain training on {1 - HOLDOUT:.0%} of the pairs, then each point loaded + '
             'α·(trained − loaded); the choice is the α of `Continuation.KEEP` with the smallest held-out '
             'loss; resolution: the standard error of the chosen point\'s held-out loss minus the loaded '
             'weights\', in units of that difference.', '',
             '| project | set | loaded | plain epoch (α = 1) | held-out choice | best α by validation | '
             'held-out loss, loaded → chosen (± s.e.) |', '|---|---|---|---|---|---|---|']
    for project in (2, 1):
        for domain in DOMAINS:
            result = results.get(f"mp{project}/interpolate/{domain}")
            if result is None:
                continue
            before, psnrs, alphas = result['before'], result['val_psnr'], result['alphas']
            chosen = held_out_choice(project, result)
            index = alphas.index(chosen)
            best = max(range(len(alphas)), key=psnrs.__getitem__)
            plain = psnrs[alphas.index(1)]
            lines.append(
                f"| {project} | {domain} | {before:.2f} | {plain:.2f} ({plain - before:+.2f}) | α {chosen:g}: "
                f"{psnrs[index]:.2f} ({psnrs[index] - before:+.2f}) | α {alphas[best]:g}: {psnrs[best]:.2f} "
                f"({psnrs[best] - before:+.2f}) | {result['heldout_loss'][0]:.6f} → {result['heldout_loss'][index]:.6f} "
                f"(± {result['heldout_standard_error'][index]:.6f}) |")
    return lines


def interpolation_plot(results, plt):
    """``interpolate.png``: the validation PSNR gain along the change, per set, one panel per project, the
    held-out choice circled."""
    figure, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=False)
    for project, axis in zip((2, 1), axes):
        for domain in DOMAINS:
            result = results.get(f"mp{project}/interpolate/{domain}")
            if result is None:
                continue
            gains = [psnr - result['before'] for psnr in result['val_psnr']]
            line, = axis.plot(result['alphas'], gains, 'o-', label=domain, markersize=3)
            chosen = held_out_choice(project, result)
            axis.plot(chosen, gains[result['alphas'].index(chosen)], 'o', markersize=10, fillstyle='none',
                      color=line.get_color())
        axis.axhline(0, color='grey', linewidth=0.8)
        axis.set(title=f"Mini-project {project} (circled: the held-out choice)", xlabel='α (fraction of the change)',
                 ylabel='validation PSNR gain (dB)')
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(RESULTS_FOLDER / 'interpolate.png', dpi=120)


def default_setting(project):
    """The name of the setting that the project's ``Model.CONTINUATION`` is (None if it is none of them)."""
    continuation = model_module(project).Model.CONTINUATION
    changed = {field.name: getattr(continuation, field.name) for field in dataclasses.fields(continuation)
               if getattr(continuation, field.name) != field.default}
    return next((name for name, (_, fields) in SETTINGS.items() if fields == changed), None)


def folder_of(arguments, domain):
    """The data folder of ``domain``: ``DOMAINS``', or the one given by ``--in-domain`` / ``--cross-domain``."""
    return {'in-domain': arguments.in_domain, 'cross-domain': arguments.cross_domain}.get(domain, DOMAINS[domain])


def run(arguments):
    results = load_results()
    for setting in arguments.settings or list(SETTINGS):
        if setting not in SETTINGS:
            raise SystemExit(f"continued: unknown setting {setting!r}; known: {', '.join(SETTINGS)}")
        for domain in ['in-domain'] if arguments.in_domain_only else arguments.sets:
            folder = folder_of(arguments, domain)
            key = f"mp{arguments.project}/{setting}/{domain}"
            if arguments.epochs != 1:
                key += f"/{arguments.epochs}-epochs"
            if key in results and not arguments.force:
                print(f"{key}: done, skipped", flush=True)
                continue
            save_result(key, measure_continued(arguments.project, setting, domain, folder, arguments.epochs))


def scratch(arguments):
    """(c): ``Model()`` without loading, ``epochs`` epochs on the cross-domain data, PSNR after each."""
    key = f"mp{arguments.project}/scratch/{arguments.epochs}-epochs"
    if key in load_results() and not arguments.force:
        print(f"{key}: done, skipped", flush=True)
        return
    module = model_module(arguments.project)
    train_input, train_target = load_train(arguments.cross_domain)
    validation = load_val(arguments.cross_domain)
    model = module.Model()
    history = model.train(train_input, train_target, num_epochs=arguments.epochs, seed=SEED,
                          validation=validation)
    save_result(key, {'val_psnr': [record['val_psnr'] for record in history],
                      'seconds': [record['seconds'] for record in history], 'pairs': len(train_input)})


def time_settings(arguments):
    """Each setting's epoch time on the same ``--pairs`` pairs, alternated round by round (every other round
    in reverse order), relative to the first setting's."""
    module = model_module(arguments.project)
    train_input, train_target = (images[:arguments.pairs] for images in load_train(arguments.cross_domain))

    def train_one_epoch(setting):
        model = shipped_model(module, setting)
        model.train(train_input, train_target, num_epochs=1, seed=SEED, verbose=False)

    seconds = time_rounds(arguments.settings, train_one_epoch, arguments.rounds,
                          report=lambda line: print(line, flush=True))
    reference = statistics.median(seconds[arguments.settings[0]])
    for setting, values in seconds.items():
        median = statistics.median(values)
        print(f"mp{arguments.project} {setting}: median {median:.2f} s for {len(train_input)} pairs, "
              f"{median / reference:.3f} x {arguments.settings[0]}")
        save_result(f"mp{arguments.project}/time/{setting}",
                    {'seconds': values, 'median': median, 'ratio': median / reference,
                     'reference': arguments.settings[0], 'pairs': len(train_input)})


def summary(arguments):
    """The table (markdown) and the plot of every measured setting."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    results = load_results()
    lines = ['# Continued training: one `train` epoch from the shipped weights', '',
             'Made by `python -m Proj_123456_654321.Miniproject_2.others.continued summary` from `results.json`.',
             '', 'Epoch times are in the `time` lines below (alternated side by side); those of the runs themselves '
             'depend on what else ran.', '',
             'The first table was measured on the weights shipped before the blind ones (Mini-project 2\'s σ-25 '
             'model, the σ-25 U-Net), with the settings tried then; the second (along the change) on the shipped '
             'weights.', '',
             '| project | setting | family | in-domain before → after (gain) | cross-domain before → after '
             '(change) | kept (in / cross) |', '|---|---|---|---|---|---|']
    figure, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    for project, axis in zip((2, 1), axes):
        families = {}
        for setting, (family, _) in SETTINGS.items():
            inside = results.get(f"mp{project}/{setting}/in-domain")
            across = results.get(f"mp{project}/{setting}/cross-domain")
            if inside is None or across is None:
                continue
            name = f"**{setting}** (default)" if setting == default_setting(project) else setting
            lines.append(f"| {project} | {name} | {family} | {inside['before']:.2f} → {inside['after']:.2f} "
                         f"({inside['gain']:+.2f}) | {across['before']:.2f} → {across['after']:.2f} "
                         f"({across['gain']:+.2f}) | {inside['kept'] or '-'} / {across['kept'] or '-'} |")
            families.setdefault(family, []).append((setting, -across['gain'], inside['gain']))
        for family, points in families.items():
            axis.plot([loss for _, loss, _ in points], [gain for _, _, gain in points], 'o', label=family)
            for setting, loss, gain in points:
                axis.annotate(setting, (loss, gain), fontsize=7, xytext=(3, 3), textcoords='offset points')
        default = [(loss, gain) for points in families.values() for setting, loss, gain in points
                   if setting == default_setting(project)]
        if default:
            axis.plot(*default[0], 'k*', markersize=14, fillstyle='none', label='default')
        least_gain, largest_loss = GOALS[project]
        axis.axhline(least_gain, color='grey', linestyle='--', linewidth=0.8)
        axis.axvline(largest_loss, color='grey', linestyle='--', linewidth=0.8)
        axis.set(title=f"Mini-project {project} (dashed: the goals)", xlabel='cross-domain loss (dB)',
                 ylabel='in-domain gain (dB)')
        axis.grid(alpha=0.3)
        if families:
            axis.legend(fontsize=7)
    for key, value in sorted(results.items()):
        if '/time/' in key and value['reference'] != key.rsplit('/', 1)[1]:
            lines.append('')
            lines.append(f"{key}: median epoch {value['median']:.1f} s on {value['pairs']} pairs, "
                         f"{value['ratio']:.3f} × {value['reference']} (alternated, {len(value['seconds'])} rounds)")
        if key.endswith('-epochs') and '/scratch/' not in key:
            lines.append('')
            lines.append(f"{key}: {value['before']:.2f} → {value['after']:.2f} dB ({value['gain']:+.2f}) after "
                         f"{value['epochs']} epochs in one train call")
        if '/scratch/' in key:
            lines.append('')
            lines.append(f"{key}: validation PSNR after each epoch "
                         f"{', '.join(f'{psnr:.2f}' for psnr in value['val_psnr'])} dB "
                         f"({', '.join(f'{seconds:.0f}' for seconds in value['seconds'])} s)")
    figure.tight_layout()
    figure.savefig(RESULTS_FOLDER / 'continued.png', dpi=120)
    lines += interpolation_lines(results)
    interpolation_plot(results, plt)
    (RESULTS_FOLDER / 'summary.md').write_text('\n'.join(lines) + '\n')
    print('\n'.join(lines))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest='command', required=True)
    for name in ('run', 'scratch', 'time', 'interpolate'):
        command = commands.add_parser(name)
        command.add_argument('--project', type=int, choices=(1, 2), required=True)
        command.add_argument('--in-domain', default=DOMAINS['in-domain'], help='in-domain data folder')
        command.add_argument('--cross-domain', default=DOMAINS['cross-domain'], help='cross-domain data folder')
        command.add_argument('--force', action='store_true', help='measure again what results.json holds')
        if name == 'scratch':
            command.add_argument('--epochs', type=int, default=3)
        if name in ('run', 'interpolate'):
            command.add_argument('--sets', nargs='+', choices=list(DOMAINS),
                                 default=['in-domain', 'cross-domain'] if name == 'run' else ['in-domain', *SHIFTED],
                                 help='the data sets to measure on (see DOMAINS)')
        if name == 'run':
            command.add_argument('--epochs', type=int, default=1,
                                 help='epochs of the one train call (other than 1: how much more there is to gain)')
            command.add_argument('--in-domain-only', action='store_true')
        if name in ('run', 'time'):
            command.add_argument('settings', nargs='*' if name == 'run' else '+', metavar='SETTING')
        if name == 'time':
            command.add_argument('--pairs', type=int, default=10000)
            command.add_argument('--rounds', type=int, default=3)
    commands.add_parser('summary')
    arguments = parser.parse_args(argv)
    {'run': run, 'scratch': scratch, 'time': time_settings, 'interpolate': interpolate,
     'summary': summary}[arguments.command](arguments)
    return 0


if __name__ == '__main__':
    sys.exit(main())
