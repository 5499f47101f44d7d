"""The noises a noisy patch may carry: the course's pixelation, Gaussian noise (one level or one per pair),
and the family of the robustness evaluation (``others/robustness.py``).

``Pixelation(factors)``, the course's degradation ("downsampled, pixelated images"), is made from a
high-resolution image (``build_data`` draws the crops), not from a clean patch: each noisy pixel is one pixel
of the high-resolution image, picked at random inside the output pixel's ``factor × factor`` footprint (the
same for the three channels, independently per pixel and copy); the clean patch is the image's Lanczos
downsampling. The pick is the footprint's mean plus a heavy-tailed, channel-shared, spatially white residual.

Every other noise maps clean uint8 patches ``[N, 3, H, W]`` (numpy) to noisy ones, ``clamp(round(clean + n), 0,
255)`` as uint8, with ``n`` drawn from a ``numpy.random.Generator``:

* ``Gaussian(sigma)``: ``n = sigma · N(0, 1)`` per pixel and channel; ``sigma`` one number or one per patch
  (both noisy copies of a training pair get the same one, as real data would have);
* ``PoissonGaussian(gain, read_sigma)``, camera-like and signal-dependent: ``clean + n = gain ·
  Poisson(clean / gain) + read_sigma · N(0, 1)`` (shot noise of ``clean / gain`` photons, then read noise), so
  a pixel's variance is ``gain · clean + read_sigma²``;
* ``Correlated(sigma, kernel)``: i.i.d. Gaussian noise filtered per channel by a small kernel (circularly, so
  the noise is stationary over the patch), scaled so each pixel's standard deviation is ``sigma``.

Each also says what a classical denoiser "given the noise" is told (``bm3d_noise``): a standard deviation on
the [0, 1] scale (for the signal-dependent noise, its root-mean-square over the patch's clean pixels), or
for the correlated noise its power spectral density, in ``bm3d``'s convention (``σ²·H·W`` for white noise).
"""
from dataclasses import dataclass

import numpy as np

# Noise is drawn this many patches at a time to bound the float32 memory.
NOISE_CHUNK = 4096


def quantised(values):
    """``clamp(round(values), 0, 255)`` as uint8, in place on the float array ``values``."""
    np.rint(values, out=values)
    np.clip(values, 0, 255, out=values)
    return values.astype(np.uint8)


def _per_patch(value, count):
    """``value`` (a number or one per patch) as a float32 array ``[count, 1, 1, 1]``."""
    values = np.broadcast_to(np.asarray(value, dtype=np.float32), (count,))
    return values.reshape(count, 1, 1, 1)


@dataclass(frozen=True)
class Gaussian:
    """Additive white Gaussian noise of standard deviation ``sigma`` (0-255 scale): a number, or an array of
    one per patch."""
    sigma: object = 25.0

    def __call__(self, clean, rng):
        noisy = np.empty_like(clean, dtype=np.uint8)
        sigma = np.asarray(self.sigma, dtype=np.float32)
        for start in range(0, len(clean), NOISE_CHUNK):
            chunk = clean[start:start + NOISE_CHUNK]
            values = rng.standard_normal(chunk.shape, dtype=np.float32)
            # A scalar multiplies as it always did, so the σ-25 sets stay byte-identical.
            values *= sigma if sigma.ndim == 0 else _per_patch(sigma[start:start + NOISE_CHUNK], len(chunk))
            values += chunk
            noisy[start:start + NOISE_CHUNK] = quantised(values)
        return noisy

    def bm3d_noise(self, clean_patch, index):
        """The standard deviation on the [0, 1] scale of patch ``index``."""
        sigma = np.asarray(self.sigma, dtype=np.float64)
        return float(sigma if sigma.ndim == 0 else sigma[index]) / 255


@dataclass(frozen=True)
class PoissonGaussian:
    """Shot noise of ``clean / gain`` photons and Gaussian read noise of ``read_sigma`` (0-255 scale)."""
    gain: float
    read_sigma: float

    def __call__(self, clean, rng):
        noisy = np.empty_like(clean, dtype=np.uint8)
        for start in range(0, len(clean), NOISE_CHUNK):
            chunk = clean[start:start + NOISE_CHUNK].astype(np.float64)
            values = (self.gain * rng.poisson(chunk / self.gain)).astype(np.float32)
            values += self.read_sigma * rng.standard_normal(chunk.shape, dtype=np.float32)
            noisy[start:start + NOISE_CHUNK] = quantised(values)
        return noisy

    def bm3d_noise(self, clean_patch, index):
        """The root-mean-square standard deviation over the patch's clean pixels, [0, 1] scale."""
        variance = self.gain * np.mean(clean_patch, dtype=np.float64) + self.read_sigma ** 2
        return float(np.sqrt(variance)) / 255


@dataclass(frozen=True)
class Correlated:
    """White Gaussian noise filtered by ``kernel`` (a tuple of rows), scaled to standard deviation ``sigma``
    per pixel (0-255 scale)."""
    sigma: float
    kernel: tuple

    def _unit_kernel(self):
        kernel = np.asarray(self.kernel, dtype=np.float64)
        return kernel / np.linalg.norm(kernel)

    def __call__(self, clean, rng):
        kernel = self._unit_kernel()
        noisy = np.empty_like(clean, dtype=np.uint8)
        for start in range(0, len(clean), NOISE_CHUNK):
            chunk = clean[start:start + NOISE_CHUNK]
            white = rng.standard_normal(chunk.shape)
            # Circular filtering: a sum of rolled copies, one per kernel tap.
            filtered = np.zeros(chunk.shape)
            for (row, column), weight in np.ndenumerate(kernel):
                filtered += weight * np.roll(white, (row, column), axis=(2, 3))
            values = (self.sigma * filtered).astype(np.float32)
            values += chunk
            noisy[start:start + NOISE_CHUNK] = quantised(values)
        return noisy

    def bm3d_noise(self, clean_patch, index):
        """The noise's power spectral density ``[H, W]`` on the [0, 1] scale, as ``bm3d`` takes it."""
        height, width = np.shape(clean_patch)[-2:]
        transfer = np.abs(np.fft.fft2(self._unit_kernel(), (height, width))) ** 2
        return transfer * (self.sigma / 255) ** 2 * height * width


@dataclass(frozen=True)
class Pixelation:
    """One random high-resolution pixel per output pixel; the integer factor drawn per pair uniformly in
    ``factors`` (LOW, HIGH), both ends included."""
    factors: tuple

    def draw_factors(self, count, rng):
        """The factor of each of ``count`` pairs (no draw when the range is one value)."""
        low, high = self.factors
        if low == high:
            return np.full(count, low, dtype=np.int64)
        return rng.integers(low, high + 1, size=count)

    @staticmethod
    def pick(high_res, factor, rng):
        """``high_res`` uint8 ``[factor·H, factor·W, 3]`` (a PIL image's layout) -> the noisy patch uint8
        ``[3, H, W]``: at each output pixel one of the footprint's pixels, the same for the three channels."""
        height, width = high_res.shape[0] // factor, high_res.shape[1] // factor
        rows = np.arange(height)[:, None] * factor + rng.integers(factor, size=(height, width))
        columns = np.arange(width)[None, :] * factor + rng.integers(factor, size=(height, width))
        return high_res[rows, columns].transpose(2, 0, 1)


# The robustness evaluation's signal-dependent and correlated noises (others/robustness.py); build_data's
# --noise puts them on training pairs too.
# Camera-like: a pixel of value v holds v / 4 photons, read noise 8; the standard deviation is 24 at v = 128
# (12 at 20, 33 at 255), near the stand-in's 25 on average.
POISSON_GAUSSIAN = PoissonGaussian(gain=4.0, read_sigma=8.0)
# A 3×3 binomial blur of white noise, per pixel standard deviation 25 (neighbours correlate by 0.67).
CORRELATED = Correlated(sigma=25.0, kernel=((1, 2, 1), (2, 4, 2), (1, 2, 1)))
NAMED_NOISES = {'poisson-gaussian': POISSON_GAUSSIAN, 'correlated': CORRELATED}


def parse_factors(text):
    """``'8'`` -> ``(8, 8)``, ``'6:16'`` -> ``(6, 16)``: the range a pair's downsampling factor is drawn from."""
    low, _, high = text.partition(':')
    try:
        low, high = int(low), int(high or low)
    except ValueError:
        raise ValueError(f"a downsampling factor must be LOW or LOW:HIGH, integers, got {text!r}") from None
    if not 1 <= low <= high:
        raise ValueError(f"a downsampling factor must be LOW or LOW:HIGH with 1 <= LOW <= HIGH, got {text!r}")
    return low, high


def parse_sigma(text):
    """``'25'`` -> ``(25.0, 25.0)``, ``'5:55'`` -> ``(5.0, 55.0)``: the range a pair's σ is drawn from."""
    low, _, high = text.partition(':')
    low, high = float(low), float(high or low)
    if not (np.isfinite(low) and np.isfinite(high) and 0 <= low <= high):
        raise ValueError(f"a noise level must be LOW or LOW:HIGH with 0 <= LOW <= HIGH, got {text!r}")
    return low, high


def pair_sigmas(sigma_range, count, rng):
    """The σ of each of ``count`` pairs, uniform over ``sigma_range`` (no draw when it is one value, so the
    σ-25 sets stay byte-identical)."""
    low, high = sigma_range
    if low == high:
        return low
    return rng.uniform(low, high, size=count).astype(np.float32)
