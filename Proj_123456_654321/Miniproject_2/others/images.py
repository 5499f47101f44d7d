"""Photos as 8-bit RGB, converted the same way by the data builder and the denoise command.

Pillow's ``convert('RGB')`` clips 16-bit values to 255 instead of scaling them, which turns a 16-bit PNG
almost all white; ``to_rgb`` scales them. 32-bit integer and float images (modes ``I`` and ``F``) have no
agreed white level, so both tools refuse them.
"""
import numpy as np
from PIL import Image

UNSUPPORTED_MODES = ('I', 'F')


def check_depth(image, path):
    """ValueError if ``image`` (an open PIL image; only its header is read) is one ``to_rgb`` cannot convert."""
    if image.mode in UNSUPPORTED_MODES:
        raise ValueError(f"{path}: 32-bit ({image.mode}) images are not supported; save it with 8 bits")


def to_rgb(image, path):
    """``image`` (an open PIL image) as an 8-bit RGB image, 16-bit values scaled (65535 -> 255)."""
    check_depth(image, path)
    if image.mode.startswith('I;16'):
        image = Image.fromarray(np.rint(np.asarray(image) / 257).astype(np.uint8))
    return image.convert('RGB')
