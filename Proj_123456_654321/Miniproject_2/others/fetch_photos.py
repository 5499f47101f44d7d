"""Fetch more photos from Debian packages, one file per scene.

    python -m Proj_123456_654321.Miniproject_2.others.fetch_photos --out photos
    python -m Proj_123456_654321.Miniproject_2.others.fetch_photos --collection in-domain --out photos_indomain

``training`` (the default): the wallpapers of ``mate-backgrounds`` and ``plasma-workspace-wallpapers``, the
photos the shipped models were trained on beside the bundled ones.

``in-domain``: 19 colour photographs of OpenCV's sample data (``opencv-doc``, ``examples/data``), one per
scene, listed in ``IN_DOMAIN_PHOTOS``. No shipped model was trained on them: the continued-training
experiment (``others/continued.py``) cuts its training and validation patches from these same photos, the
situation of the grader, whose training and validation images come from one collection. Keep them out of
training sets, or that experiment no longer measures what it says.

Needs a Debian or Ubuntu machine (``apt-get download`` fetches the .deb files without installing them,
``dpkg-deb -x`` unpacks them). The packages ship most scenes in several resolutions (Plasma up to 12, MATE's
Elephants 3): a data set built from every file would weigh those scenes more, and a split by file content
could put two versions of one scene in different splits. So only the largest file of each scene is kept,
named ``SCENE_WIDTHxHEIGHT.ext``. Feed the folder to the data builder's ``--train-images``.
"""
import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PACKAGES = ('mate-backgrounds', 'plasma-workspace-wallpapers')
IN_DOMAIN_PACKAGE = 'opencv-doc'
IN_DOMAIN_FOLDER = 'usr/share/doc/opencv-doc/examples/data'
# The colour photographs among the sample data, one file per scene (aloeL/aloeR, leuvenA/leuvenB, graf1/graf3,
# rubberwhale1/2, left/right are pairs of views; ela_modified is ela_original retouched; the rest are drawings,
# renders, grey chessboards, text or a painting).
IN_DOMAIN_PHOTOS = ('aero1.jpg', 'aloeL.jpg', 'apple.jpg', 'baboon.jpg', 'board.jpg', 'building.jpg',
                    'butterfly.jpg', 'chicky_512.png', 'ela_original.jpg', 'fruits.jpg', 'graf1.png', 'home.jpg',
                    'left.jpg', 'leuvenA.jpg', 'messi5.jpg', 'orange.jpg', 'rubberwhale1.png', 'squirrel_cls.jpg',
                    'stuff.jpg')
IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png')
# Where the packages put their pictures, relative to the unpacked root.
MATE_FOLDER = 'usr/share/backgrounds/mate'
PLASMA_FOLDER = 'usr/share/wallpapers'


def image_size(path):
    from PIL import Image
    with Image.open(path) as image:
        return image.size


def scenes(root):
    """``{(package, scene name): [paths]}`` of the wallpapers unpacked under ``root``. A Plasma scene is a
    folder ``NAME/contents/images/`` (its dark variants in ``images_dark/`` are left out); a MATE scene is a
    file name without its ``_WIDTHxHEIGHT`` suffix (the packages each have a different "Flow")."""
    found = {}
    for path in sorted((root / PLASMA_FOLDER).glob('*/contents/images/*')):
        if path.suffix.lower() in IMAGE_SUFFIXES:
            found.setdefault(('plasma', path.parts[-4]), []).append(path)
    for path in sorted((root / MATE_FOLDER).rglob('*')):
        if path.suffix.lower() in IMAGE_SUFFIXES:
            scene = re.sub(r'_\d+x\d+$', '', path.stem)
            found.setdefault(('mate', scene), []).append(path)
    return found


def keep_largest(found, out):
    """Copy the largest file of each scene to ``out`` as ``SCENE_WIDTHxHEIGHT.ext``; return the copies."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for (_, scene), paths in sorted(found.items()):
        sizes = {path: image_size(path) for path in paths}
        largest = max(paths, key=lambda path: (sizes[path][0] * sizes[path][1], str(path)))
        width, height = sizes[largest]
        target = out / f'{scene}_{width}x{height}{largest.suffix.lower()}'
        shutil.copyfile(largest, target)
        written.append(target)
    return written


def copy_in_domain(root, out):
    """Copy ``IN_DOMAIN_PHOTOS`` from the unpacked ``opencv-doc`` to ``out``; return the copies."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in IN_DOMAIN_PHOTOS:
        source = root / IN_DOMAIN_FOLDER / name
        if not source.is_file():
            raise FileNotFoundError(f'{source} is missing (another {IN_DOMAIN_PACKAGE} version?)')
        shutil.copyfile(source, out / name)
        written.append(out / name)
    return written


def download_and_unpack(folder, packages):
    for package in packages:
        subprocess.run(['apt-get', 'download', package], cwd=folder, check=True)
    root = folder / 'root'
    for deb in sorted(folder.glob('*.deb')):
        subprocess.run(['dpkg-deb', '-x', str(deb), str(root)], check=True)
    return root


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--out', type=Path, required=True, help='folder to write the photos to')
    parser.add_argument('--collection', choices=('training', 'in-domain'), default='training',
                        help='which photos (default: training; see above)')
    arguments = parser.parse_args(argv)
    for tool in ('apt-get', 'dpkg-deb'):
        if shutil.which(tool) is None:
            parser.exit(1, f'fetch_photos: error: {tool} not found; this command needs Debian or Ubuntu\n')
    with tempfile.TemporaryDirectory() as temporary:
        try:
            if arguments.collection == 'in-domain':
                written = copy_in_domain(download_and_unpack(Path(temporary), (IN_DOMAIN_PACKAGE,)), arguments.out)
            else:
                written = keep_largest(scenes(download_and_unpack(Path(temporary), PACKAGES)), arguments.out)
        except (subprocess.CalledProcessError, OSError) as error:
            parser.exit(1, f'fetch_photos: error: {error}\n')
    print(f'wrote {len(written)} photos to {arguments.out}', file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(main())
