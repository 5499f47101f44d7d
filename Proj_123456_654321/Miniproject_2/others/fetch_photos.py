"""Fetch more training photos: the wallpapers of Debian's ``mate-backgrounds`` and
``plasma-workspace-wallpapers`` packages, one file per scene.

    python -m Proj_123456_654321.Miniproject_2.others.fetch_photos --out photos

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


def download_and_unpack(folder):
    for package in PACKAGES:
        subprocess.run(['apt-get', 'download', package], cwd=folder, check=True)
    root = folder / 'root'
    for deb in sorted(folder.glob('*.deb')):
        subprocess.run(['dpkg-deb', '-x', str(deb), str(root)], check=True)
    return root


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--out', type=Path, required=True, help='folder to write the photos to')
    arguments = parser.parse_args(argv)
    for tool in ('apt-get', 'dpkg-deb'):
        if shutil.which(tool) is None:
            parser.exit(1, f'fetch_photos: error: {tool} not found; this command needs Debian or Ubuntu\n')
    with tempfile.TemporaryDirectory() as temporary:
        try:
            root = download_and_unpack(Path(temporary))
        except subprocess.CalledProcessError as error:
            parser.exit(1, f'fetch_photos: error: {error}\n')
        written = keep_largest(scenes(root), arguments.out)
    print(f'wrote {len(written)} photos to {arguments.out}', file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(main())
