"""The photo fetcher's choice of one file per scene (offline: on a fake unpacked package tree)."""
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
