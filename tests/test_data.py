import numpy as np
import pytest

from utils import data


def _check_images(x, shape_tail):
    assert x.dtype == np.float32 and x.ndim == 4 and x.shape[1:] == shape_tail
    assert 0.0 <= x.min() and x.max() <= 1.0


def test_digits_are_real_scans_split_stratified():
    digits = data.load_digits()
    _check_images(digits.x_train, (8, 8, 1))
    assert len(digits.y_train) + len(digits.y_val) + len(digits.y_test) == 1797
    counts = digits.class_counts()
    assert counts["test"].min() >= 30  # every class in every split
    again = data.load_digits()
    np.testing.assert_array_equal(digits.x_test, again.x_test)
    assert data.load_digits(image_size=16).image_shape == (16, 16, 1)


def test_photos_are_offline_and_float():
    photos = data.sample_photos()
    assert set(photos) == set(data.PHOTO_NAMES)
    for name, image in photos.items():
        assert image.dtype == np.float32 and image.ndim == 3 and image.shape[2] == 3, name
    assert data.load_photo("brick").shape[2] == 1
    with pytest.raises(ValueError, match="name: expected one of"):
        data.load_photo("lena")


def test_photo_patches_balanced_deterministic_and_disjoint():
    patches = data.load_photo_patches(test_per_class=10)
    _check_images(patches.x_train, (32, 32, 3))
    assert patches.num_classes == 9
    for split, count in patches.class_counts().items():
        assert set(count) == {{"train": 300, "val": 100, "test": 10}[split]}
    again = data.load_photo_patches(test_per_class=10)
    np.testing.assert_array_equal(patches.x_val, again.x_val)
    # no test patch is a copy of a training patch (the splits come from disjoint blocks)
    train = {p.tobytes() for p in patches.x_train}
    assert not any(p.tobytes() in train for p in patches.x_test)


def test_photo_patches_errors():
    with pytest.raises(TypeError, match="patch_size"):
        data.load_photo_patches(patch_size=32.0)
    with pytest.raises(ValueError, match="scale"):
        data.load_photo_patches(scale=0.05)
    with pytest.raises(ValueError, match="test_per_class"):
        data.load_photo_patches(test_per_class=0)


def test_subset_is_class_balanced():
    small = data.load_digits().subset(5, seed=1)
    assert list(np.bincount(small.y_train)) == [5] * 10
    with pytest.raises(ValueError, match="train_per_class"):
        data.load_digits().subset(10_000)


def test_make_shapes_boxes_are_tight_and_continuous():
    sample = data.make_shapes(20, image_size=48, min_objects=1, max_objects=1, seed=3)
    for image, boxes, labels in zip(sample.images, sample.boxes, sample.labels):
        assert boxes.shape == (1, 4) and labels.shape == (1,)
        background = image[0, 0]
        changed = np.any(np.abs(image - background) > 1e-6, axis=-1)
        rows, cols = np.nonzero(changed)
        x0, y0, x1, y1 = boxes[0]
        # every coloured pixel lies inside the box (continuous coordinates, no +1)
        assert cols.min() >= np.floor(x0) and cols.max() <= np.ceil(x1) - 1
        assert rows.min() >= np.floor(y0) and rows.max() <= np.ceil(y1) - 1
        # and the shape reaches the box edges (to within a pixel)
        assert cols.min() <= x0 + 1 and cols.max() >= x1 - 2
        assert rows.min() <= y0 + 1 and rows.max() >= y1 - 2


def test_make_shapes_respects_overlap_and_is_seeded():
    sample = data.make_shapes(30, image_size=64, min_objects=3, max_objects=5, max_overlap=0.1,
                              aspect_ratio_range=(0.5, 2.0), background="photo", seed=1)
    for boxes in sample.boxes:
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                a, b = boxes[i], boxes[j]
                inter = max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))
                union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
                assert inter / union <= 0.1 + 1e-6
        assert np.all(boxes[:, 2] > boxes[:, 0]) and np.all(boxes[:, 3] > boxes[:, 1])
        assert boxes.min() >= 0 and boxes.max() <= 64
    again = data.make_shapes(30, image_size=64, min_objects=3, max_objects=5, max_overlap=0.1,
                             aspect_ratio_range=(0.5, 2.0), background="photo", seed=1)
    np.testing.assert_array_equal(sample.images, again.images)


@pytest.mark.parametrize("background", data.BACKGROUNDS)
def test_make_shapes_backgrounds(background):
    sample = data.make_shapes(2, image_size=32, background=background, seed=0)
    assert sample.images.shape == (2, 32, 32, 3) and sample.images.dtype == np.float32
    assert 0 <= sample.images.min() and sample.images.max() <= 1
