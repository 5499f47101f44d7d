"""Continued training (``Continuation``): how ``train`` goes on from loaded weights, in both mini-projects.

Small networks and few pairs: these check what the held-out choice does, not how much PSNR it buys (that is
``others/continued.py``'s job)."""
import pytest
import torch

from Proj_123456_654321.Miniproject_1 import model as mp1
from Proj_123456_654321.Miniproject_2 import model as mp2

PROJECTS = {'mp1': mp1, 'mp2': mp2}


def parameters(model):
    if hasattr(model.network, 'param'):
        return [parameter for parameter, _ in model.network.param()]
    return list(model.network.parameters())


def snapshot(model):
    return [parameter.detach().clone() for parameter in parameters(model)]


def pairs(count, seed):
    generator = torch.Generator().manual_seed(seed)
    clean = torch.randint(0, 256, (count, 3, 1, 1), generator=generator).expand(-1, -1, 16, 16).float()
    noisy = [(clean + 25 * torch.randn(clean.shape, generator=generator)).clamp(0, 255).round().byte()
             for _ in range(2)]
    return noisy[0], noisy[1]


@pytest.fixture(params=sorted(PROJECTS))
def saved(request, tmp_path):
    """(module, path of a small trained model's file, its weights)."""
    module = PROJECTS[request.param]
    torch.manual_seed(0)
    model = module.Model(width=8)
    model.train(*pairs(64, seed=1), num_epochs=1, seed=0, verbose=False)
    path = model.save_model(tmp_path / 'small.pth')
    return module, path, snapshot(model)


def loaded(module, path, holdout=0.0):
    """A width-8 model continuing with ``Continuation(holdout)`` from the weights of ``path``."""
    model = module.Model(width=8, continuation=module.Continuation(holdout=holdout))
    model.load_pretrained_model(path)
    return model


@pytest.mark.parametrize('name', sorted(PROJECTS))
@pytest.mark.parametrize('holdout', [1, 1.5, -0.1, float('nan')])
def test_invalid_holdout_is_refused(name, holdout):
    with pytest.raises(ValueError):
        PROJECTS[name].Continuation(holdout=holdout)


@pytest.mark.parametrize('name', sorted(PROJECTS))
def test_continuation_must_be_a_continuation(name):
    with pytest.raises(TypeError, match='Continuation'):
        PROJECTS[name].Model(width=8, continuation={'holdout': 0.1})


@pytest.mark.parametrize('name', sorted(PROJECTS))
def test_training_from_scratch_ignores_the_held_out_choice(name):
    """Without loaded weights, a model with held-out pairs trains exactly as plain training does."""
    module = PROJECTS[name]
    results = []
    for holdout in (0.0, 0.5):
        torch.manual_seed(0)
        model = module.Model(width=8, continuation=module.Continuation(holdout=holdout))
        history = model.train(*pairs(160, seed=2), num_epochs=2, seed=4, verbose=False)
        results.append((snapshot(model), history[-1]['loss'], 'kept' in history[-1]))
    (plain, plain_loss, plain_kept), (other, other_loss, other_kept) = results
    assert all(torch.equal(a, b) for a, b in zip(plain, other))
    assert plain_loss == other_loss and not plain_kept and not other_kept


def test_loaded_weights_are_a_copy(saved):
    module, path, weights = saved
    model = loaded(module, path)
    model.train(*pairs(64, seed=3), num_epochs=1, seed=0, verbose=False)
    assert all(torch.equal(a, b) for a, b in zip(model.loaded_weights, weights))
    assert not all(torch.equal(a, b) for a, b in zip(snapshot(model), weights))


def moved_away(model):
    """Move every weight of ``model`` by a seeded random step, as training would; return the new weights."""
    with torch.no_grad():
        for parameter in parameters(model):
            parameter.add_(0.05 * torch.randn(parameter.shape, generator=torch.Generator().manual_seed(7)))
    return snapshot(model)


@pytest.mark.parametrize('target', ['loaded', 'trained'])
def test_held_out_pairs_choose_the_weights_that_predict_them_best(saved, target):
    """Held-out targets that are the outputs of one candidate (one pass, as the choice predicts them): that
    candidate's weights come back exactly."""
    module, path, weights = saved
    model = loaded(module, path)
    noisy, _ = pairs(96, seed=5)
    trained = moved_away(model)
    source = loaded(module, path) if target == 'loaded' else model
    source.self_ensemble = False
    held_out_targets = source.predict(noisy)
    model.self_ensemble = True
    kept, losses = model._finish_continuation(noisy, held_out_targets)
    assert kept == {'loaded': 0, 'trained': 1}[target]
    assert len(losses) == len(module.Continuation.KEEP) and min(losses) == losses[module.Continuation.KEEP.index(kept)]
    assert model.self_ensemble
    expected = weights if target == 'loaded' else trained
    assert all(torch.equal(a, b) for a, b in zip(snapshot(model), expected))


def test_the_held_out_choice_moves_along_the_change(saved, monkeypatch):
    """Held-out targets predicted by the point halfway along the change: given that point among its choices,
    the choice keeps half of the change."""
    module, path, weights = saved
    monkeypatch.setattr(module.Continuation, 'KEEP', (0, 0.5, 1))
    model = loaded(module, path)
    noisy, _ = pairs(96, seed=5)
    trained = moved_away(model)
    halfway = loaded(module, path)
    with torch.no_grad():
        for parameter, start, end in zip(parameters(halfway), weights, trained):
            parameter.copy_(start.lerp(end, 0.5))
    halfway.self_ensemble = False
    kept, _ = model._finish_continuation(noisy, halfway.predict(noisy))
    assert kept == 0.5
    assert all(torch.equal(a, b.lerp(c, 0.5)) for a, b, c in zip(snapshot(model), weights, trained))


def test_held_out_choice_is_recorded(saved, capsys):
    module, path, weights = saved
    model = loaded(module, path, holdout=0.5)
    history = model.train(*pairs(256, seed=5), num_epochs=1, seed=0)
    assert history[-1]['kept'] in module.Continuation.KEEP
    losses = history[-1]['heldout_losses']
    assert len(losses) == len(module.Continuation.KEEP) and min(losses) == losses[
        module.Continuation.KEEP.index(history[-1]['kept'])]
    assert f"kept {history[-1]['kept']:g} of the change: held-out loss {losses[0]:.6f} -> {min(losses):.6f}" in (
        capsys.readouterr().out)
    if history[-1]['kept'] == 0:
        assert all(torch.equal(a, b) for a, b in zip(snapshot(model), weights))


@pytest.mark.parametrize('name', sorted(PROJECTS))
def test_too_few_pairs_for_a_held_out_choice(name, tmp_path):
    module = PROJECTS[name]
    torch.manual_seed(0)
    model = module.Model(width=8)
    path = model.save_model(tmp_path / 'small.pth')
    model = module.Model(width=8, continuation=module.Continuation(holdout=0.1))
    model.load_pretrained_model(path)
    history = model.train(*pairs(200, seed=1), num_epochs=1, seed=0, verbose=False)
    assert history[-1]['kept'] is None


def test_interpolate_ends_at_the_loaded_and_at_the_plainly_trained_weights(saved, tmp_path, monkeypatch):
    from Proj_123456_654321.Miniproject_2.others import continued
    module, path, _ = saved
    project = 1 if module is mp1 else 2
    train_pairs, validation = pairs(3200, seed=5), pairs(16, seed=6)
    torch.save(train_pairs, tmp_path / 'train_data.pkl')
    torch.save(validation, tmp_path / 'val_data.pkl')

    def small_model(module):
        model = module.Model(width=8)
        model.load_pretrained_model(path)
        return model

    monkeypatch.setattr(continued, 'shipped_model', small_model)
    result = continued.measure_interpolation(project, 'in-domain', tmp_path)
    assert result['alphas'] == list(continued.ALPHAS) and result['heldout_pairs'] == 64
    assert result['pairs'] == 3200 - 64
    assert len(result['heldout_loss']) == len(result['val_psnr']) == len(continued.ALPHAS)
    loaded = small_model(module)
    assert result['val_psnr'][0] == pytest.approx(continued.validation_psnr(module, loaded, validation), abs=1e-9)
    # α = 1 is plain training on the pairs train's holdout keeps for training, in the same order.
    order, heldout = module._split_heldout(3200, module.Model.CONTINUATION.holdout, continued.SEED)
    plain = small_model(module)
    plain.continuation = module.Continuation()
    plain.train(train_pairs[0][order], train_pairs[1][order], num_epochs=1, seed=continued.SEED, verbose=False)
    assert result['val_psnr'][continued.ALPHAS.index(1)] == pytest.approx(
        continued.validation_psnr(module, plain, validation), abs=1e-6)
    expected = continued.heldout_losses(module, plain, train_pairs[0][heldout], train_pairs[1][heldout]).mean()
    assert result['heldout_loss'][continued.ALPHAS.index(1)] == pytest.approx(expected.item(), rel=1e-6)
    assert result['heldout_standard_error'][0] == 0
