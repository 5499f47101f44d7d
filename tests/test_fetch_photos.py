"""The photo fetcher's choice of one file per scene (offline: on a fake unpacked package tree)."""
import re

import numpy as np
import pytest
from PIL import Image

from Proj_123456_654321.Miniproject_2.others import fetch_photos


def save(path, size):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.zeros((size[1], size[0], 3), dtype=np.uint8)).save(path)


def test_keeps_the_largest_file_of_each_scene(tmp_path):
    root = tmp_path / 'root'
    plasma = root / fetch_photos.PLASMA_FOLDER
    mate = root / fetch_photos.MATE_FOLDER
    save(plasma / 'Flow/contents/images/64x40.png', (64, 40))
    save(plasma / 'Flow/contents/images/96x60.png', (96, 60))
    save(plasma / 'Flow/contents/images_dark/128x80.png', (128, 80))
    save(plasma / 'Kite/contents/images/50x40.jpg', (50, 40))
    save(mate / 'abstract/Elephants.jpg', (40, 40))
    save(mate / 'abstract/Elephants_120x90.jpg', (120, 90))
    save(mate / 'abstract/Flow.png', (70, 50))
    save(mate / 'nature/Wood.JPG', (60, 45))
    (mate / 'nature/readme.txt').write_text('not a picture')

    written = fetch_photos.keep_largest(fetch_photos.scenes(root), tmp_path / 'out')

    names = sorted(path.name for path in written)
    assert names == ['Elephants_120x90.jpg', 'Flow_70x50.png', 'Flow_96x60.png', 'Kite_50x40.jpg',
                     'Wood_60x45.jpg']
    assert sorted(path.name for path in (tmp_path / 'out').iterdir()) == names
    with Image.open(tmp_path / 'out' / 'Flow_96x60.png') as image:
        assert image.size == (96, 60)


def test_the_in_domain_collection_is_copied_whole_or_refused(tmp_path):
    folder = tmp_path / 'root' / fetch_photos.IN_DOMAIN_FOLDER
    for name in fetch_photos.IN_DOMAIN_PHOTOS:
        save(folder / name, (40, 32))
    written = fetch_photos.copy_in_domain(tmp_path / 'root', tmp_path / 'out')
    assert sorted(path.name for path in written) == sorted(fetch_photos.IN_DOMAIN_PHOTOS)
    (folder / fetch_photos.IN_DOMAIN_PHOTOS[0]).unlink()
    with pytest.raises(FileNotFoundError, match='missing'):
        fetch_photos.copy_in_domain(tmp_path / 'root', tmp_path / 'again')


def test_the_in_domain_photos_come_from_outside_the_training_packages():
    assert fetch_photos.IN_DOMAIN_PACKAGE not in fetch_photos.PACKAGES
    assert not any(fetch_photos.IN_DOMAIN_FOLDER.startswith(folder)
                   for folder in (fetch_photos.PLASMA_FOLDER, fetch_photos.MATE_FOLDER))
    assert len({name.lower() for name in fetch_photos.IN_DOMAIN_PHOTOS}) == len(fetch_photos.IN_DOMAIN_PHOTOS) == 19


def fake_training_tree(root):
    """Every listed photo (a 40x32 PPM for CImg's parrot), beside pictures of those packages that are not
    listed, one wallpaper of each wallpaper package, and lomiri's and opencv-doc's pictures."""
    for folder, names in fetch_photos.LISTED_PHOTOS.values():
        for name in names:
            save(root / folder / name, (40, 32))
    save(root / 'usr/share/sddm/themes/maldives/maldives.jpg', (30, 20))
    save(root / 'usr/share/gnome-taquin/themes/cats/1-march.jpg', (40, 40))
    save(root / fetch_photos.PLASMA_FOLDER / 'Kite/contents/images/50x40.jpg', (50, 40))
    save(root / fetch_photos.MATE_FOLDER / 'nature/Wood.jpg', (60, 45))
    save(root / 'usr/share/wallpapers/lomiri-default-background.png', (64, 48))
    save(root / 'usr/share/backgrounds/lomiri/warty-final-ubuntu.png', (64, 48))
    save(root / fetch_photos.IN_DOMAIN_FOLDER / 'baboon.jpg', (64, 48))


def test_the_more_collection_is_exactly_the_listed_photos(tmp_path):
    root = tmp_path / 'root'
    fake_training_tree(root)

    written = fetch_photos.copy_listed(root, tmp_path / 'out')

    names = sorted(path.name for path in written)
    assert sorted(path.name for path in (tmp_path / 'out').iterdir()) == names
    assert len(names) == 53
    assert {name.split('_')[0] for name in names} == set(fetch_photos.LISTED_PHOTOS)
    # The wallpapers stay the training collection's: the photos of the models shipped so far.
    assert not {'Kite_50x40.jpg', 'Wood_60x45.jpg'} & set(names)
    assert {'scribus-template_br2_halfmoon.jpg', 'scribus-template_cal2_moon.jpg', 'lxqt-themes_fog.jpg',
            'sddm-theme-maldives_background.jpg', 'ultralytics_bus.jpg', 'cimg-examples_parrot.png'} <= set(names)
    assert not any('lomiri' in name or 'warty' in name or 'baboon' in name or 'march' in name
                   or name.endswith('maldives.jpg') for name in names)
    with Image.open(tmp_path / 'out' / 'cimg-examples_parrot.png') as image:
        assert (image.format, image.size) == ('PNG', (40, 32))
    with Image.open(tmp_path / 'out' / 'lxqt-themes_fog.jpg') as image:
        assert (image.format, image.size) == ('JPEG', (40, 32))


def test_a_missing_listed_photo_is_named_and_nothing_is_copied(tmp_path):
    root = tmp_path / 'root'
    fake_training_tree(root)
    folder, names = fetch_photos.LISTED_PHOTOS['tuxpaint-data']
    (root / folder / names[0]).unlink()
    with pytest.raises(FileNotFoundError, match=re.escape(f'tuxpaint-data: {folder}/{names[0]}')):
        fetch_photos.copy_listed(root, tmp_path / 'out')
    assert not (tmp_path / 'out').exists()


def test_the_listed_photos_are_one_file_per_scene_under_unique_names(tmp_path):
    fake_training_tree(tmp_path)
    names = list(fetch_photos.listed_sources(tmp_path))
    assert len({name.lower() for name in names}) == sum(len(listed) for _, listed in
                                                        fetch_photos.LISTED_PHOTOS.values()) == 53
    for folder, listed in fetch_photos.LISTED_PHOTOS.values():
        scenes = [re.sub(r'[_-]?\d+x\d+$', '', name.rsplit('.', 1)[0].lower()) for name in listed]
        assert len(scenes) == len(set(scenes)), folder


def test_no_training_collection_fetches_the_reserved_packages():
    fetched = fetch_photos.PACKAGES + fetch_photos.MORE_PACKAGES + fetch_photos.MORE_WHEELS
    assert not any(name.startswith(('lomiri', fetch_photos.IN_DOMAIN_PACKAGE)) for name in fetched)
    assert set(fetch_photos.WHEELS) <= set(fetch_photos.LISTED_PHOTOS)
    assert all(package in fetch_photos.MORE_PACKAGES
               for package in fetch_photos.LISTED_PHOTOS if package not in fetch_photos.WHEELS)


def test_the_validation_collection_shares_no_package_with_any_other():
    validation = set(fetch_photos.VALIDATION_PHOTOS)
    others = (set(fetch_photos.PACKAGES) | set(fetch_photos.LISTED_PHOTOS) | set(fetch_photos.WHEELS)
              | {fetch_photos.IN_DOMAIN_PACKAGE})
    assert not validation & others
    assert not any(package.startswith('lomiri') for package in validation)
    assert sum(len(names) for _, names in fetch_photos.VALIDATION_PHOTOS.values()) >= 30


def test_the_validation_collection_is_its_listed_photos_found_under_a_multiarch_folder(tmp_path):
    root = tmp_path / 'root'
    for folder, names in fetch_photos.VALIDATION_PHOTOS.values():
        for name in names:
            save(root / folder.replace('*', 'x86_64-linux-gnu') / name, (40, 32))
    written = fetch_photos.copy_listed(root, tmp_path / 'out', fetch_photos.VALIDATION_PHOTOS)
    names = sorted(path.name for path in written)
    assert len(set(names)) == len(names) == sum(len(listed) for _, listed in fetch_photos.VALIDATION_PHOTOS.values())
    assert {name.split('_')[0] for name in names} == set(fetch_photos.VALIDATION_PHOTOS)
    assert 'qtwebengine5-examples_pizza.jpg' in names
