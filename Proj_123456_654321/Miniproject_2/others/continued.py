"""Continued training, the autograder's case: what one ``train`` epoch does to the shipped model.

The grader calls ``Model()``, ``load_pretrained_model()``, then ``train(..., num_epochs=1)`` on its own photos
and measures the PSNR on validation images of the same kind. ``train`` continues from loaded weights by plain
training on all but the ``Model.CONTINUATION.holdout`` fraction of the pairs, then keeps the point ``loaded + α·(trained − loaded)`` of
``Continuation.KEEP`` whose noisy-to-noisy loss on the held-out pairs is smallest (``Continuation``). This
script measures that choice along the change, for each mini-project, on two sets (``DOMAINS``):

* ``pixelation``: training and validation pairs of the same photos, which no shipped model was trained on,
  with the course's degradation (the grader's case; ``make continued`` builds ``data_indomain_pixelated``);
* ``pixelation-cross-domain``: the same on ``data/``, whose validation photos are not its training photos.

``interpolate`` trains plainly on the pairs ``train`` would keep for training, in the same order, then measures
at each point of ``ALPHAS`` the held-out loss (what ``train`` can see) and the validation PSNR (what the
grader sees), so that the choice can be judged by the second::

    python -m Proj_123456_654321.Miniproject_2.others.continued interpolate --project 2 [--sets SET ...] [--force]
    python -m Proj_123456_654321.Miniproject_2.others.continued summary

Each measurement goes to its mini-project's ``others/results/continued/results.json`` (key
``mpN/interpolate/SET``) as soon as it is made; one already there is skipped unless ``--force``. ``summary``
writes ``results/continued/summary.md`` and ``interpolate.png`` from both files. The measurements of other
sets and of other ways to continue (commit 57758e5's ``run``, ``scratch`` and ``time``) are history
(``results/history/continued.json``, docs/history.md).
"""
import argparse
import fcntl
import json
import sys

from .data import load_train, load_val, model_module, parameters_of, results_folder, write_text

# The comparison of both mini-projects (summary, plot) lives under Mini-project 2; each mini-project's
# measurements under its own results/continued/results.json, keyed 'mp1/...' or 'mp2/...'.
RESULTS_FOLDER = results_folder(2) / 'continued'
RESULTS_FILES = {project: results_folder(project) / 'continued' / 'results.json' for project in (1, 2)}
DOMAINS = {'pixelation': 'data_indomain_pixelated', 'pixelation-cross-domain': 'data'}
SEED = 0
# The points along the change.
ALPHAS = (0, 0.5, 1, 1.25, 1.5)


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
        write_text(path, json.dumps(dict(sorted(results.items())), indent=1) + '\n')


def validation_psnr(module, model, validation):
    noisy, clean = validation
    return module.psnr(model.predict(noisy).div_(255), clean.float() / 255)


def shipped_model(module):
    """The shipped model, loaded."""
    model = module.Model()
    model.load_pretrained_model()
    return model


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
    order, heldout = module._split_heldout(len(train_input), module.Model.CONTINUATION.holdout, SEED)
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
        save_result(key, measure_interpolation(arguments.project, domain, DOMAINS[domain]))


def held_out_choice(project, result):
    """The α of the project's ``Continuation.KEEP`` whose held-out loss is smallest in an ``interpolate``
    result: what ``train``'s held-out choice keeps on that set."""
    keep = model_module(project).Continuation.KEEP
    losses = {alpha: loss for alpha, loss in zip(result['alphas'], result['heldout_loss']) if alpha in keep}
    return min(losses, key=losses.get)


def interpolation_lines(results):
    """The table of the measurements: per project and set, the plain epoch's gain (α = 1), what the held-out
    choice keeps and gains, and the best α by the validation PSNR (which train cannot see)."""
    lines = ['# Continued training: one `train` epoch from the shipped weights', '',
             'Made by `python -m Proj_123456_654321.Miniproject_2.others.continued summary` from both mini-projects\' '
             '`results/continued/results.json`.', '',
             '`interpolate`: plain training on the pairs `train` keeps (all but `Model.CONTINUATION.holdout`), '
             'then each point loaded + α·(trained − loaded); the choice is the α of `Continuation.KEEP` with the '
             'smallest held-out loss; resolution: the standard error of the chosen point\'s held-out loss minus the loaded '
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
                f"({psnrs[best] - before:+.2f}) | {result['heldout_loss'][0]:.6f} → "
                f"{result['heldout_loss'][index]:.6f} (± {result['heldout_standard_error'][index]:.6f}) |")
    return lines


def interpolation_plot(results, path):
    """The validation PSNR gain along the change, per set, one panel per project, the held-out choice
    circled."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

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
    figure.savefig(path, dpi=120)


def summary(arguments):
    """``summary.md`` and ``interpolate.png`` from both mini-projects' measurements."""
    results = load_results()
    lines = interpolation_lines(results)
    RESULTS_FOLDER.mkdir(parents=True, exist_ok=True)
    interpolation_plot(results, RESULTS_FOLDER / 'interpolate.png')
    (RESULTS_FOLDER / 'summary.md').write_text('\n'.join(lines) + '\n')
    print('\n'.join(lines))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest='command', required=True)
    command = commands.add_parser('interpolate')
    command.add_argument('--project', type=int, choices=(1, 2), required=True)
    command.add_argument('--sets', nargs='+', choices=list(DOMAINS), default=list(DOMAINS),
                         help='the data sets to measure on (see DOMAINS)')
    command.add_argument('--force', action='store_true', help='measure again what results.json holds')
    commands.add_parser('summary')
    arguments = parser.parse_args(argv)
    {'interpolate': interpolate, 'summary': summary}[arguments.command](arguments)
    return 0


if __name__ == '__main__':
    sys.exit(main())
