"""Real images that installed packages ship: scikit-learn's digits and sample photographs,
scikit-image's photographs; and a natural-image classification set cut from them.

Nothing here touches the network: every file is inside the installed wheels.
"""

from __future__ import annotations

import functools

import numpy as np

from utils import validation
from utils.data.dataset import ImageDataset

# Colour photographs bundled with scikit-learn and scikit-image, by short name.
# Each entry: (package, loader name). They are the classes of `load_photo_patches`.
_COLOUR_PHOTOS = {
    "astronaut": ("skimage", "astronaut"),
    "cat": ("skimage", "chelsea"),
    "coffee": ("skimage", "coffee"),
    "rocket": ("skimage", "rocket"),
    "galaxies": ("skimage", "hubble_deep_field"),
    "tissue": ("skimage", "immunohistochemistry"),
    "motorcycle": ("skimage", "stereo_motorcycle"),
    "china": ("sklearn", "china.jpg"),
    "flower": ("sklearn", "flower.jpg"),
}
# Grayscale photographs and textures from scikit-image, by their scikit-image names.
_GRAY_PHOTOS = ("camera", "coins", "moon", "brick", "grass", "gravel", "clock", "text")

PHOTO_NAMES = tuple(_COLOUR_PHOTOS)


@functools.lru_cache(maxsize=None)
def _load_uint8(name: str) -> np.ndarray:
    package, key = _COLOUR_PHOTOS.get(name, ("skimage", name))
    if package == "sklearn":
        from sklearn.datasets import load_sample_image

        image = load_sample_image(key)
    else:
        import skimage.data

        image = getattr(skimage.data, key)()
        if isinstance(image, tuple):  # stereo_motorcycle returns (left, right, disparity)
            image = image[0]
    if image.ndim == 2:  # grayscale: [H, W] -> [H, W, 1]
        image = image[..., np.newaxis]
    image = np.ascontiguousarray(image)
    image.setflags(write=False)
    return image


def load_photo(name: str) -> np.ndarray:
    """One photograph as float32 [H, W, C] in [0, 1] (C = 3 for colour, 1 for grayscale).

    name: one of `PHOTO_NAMES` (colour) or camera, coins, moon, brick, grass, gravel, clock,
        text (grayscale).
    """
    validation.as_choice("name", name, PHOTO_NAMES + _GRAY_PHOTOS)
    return _load_uint8(name).astype(np.float32) / 255.0


def sample_photos() -> dict[str, np.ndarray]:
    """Every colour photograph, name -> float32 [H, W, 3] in [0, 1] (sizes differ)."""
    return {name: load_photo(name) for name in PHOTO_NAMES}


def load_digits(*, image_size: int = 8) -> ImageDataset:
    """scikit-learn's handwritten digits (1,797 real scans, 10 classes), split 60/20/20 into
    train/val/test keeping the class proportions (a fixed, seeded split).

    Returns images [N, image_size, image_size, 1] float32 in [0, 1] (the originals are 8x8
    with values 0-16; a larger image_size upsamples bilinearly).
    """
    from sklearn.datasets import load_digits as sklearn_digits
    from sklearn.model_selection import train_test_split

    image_size = validation.as_int("image_size", image_size, minimum=8, maximum=256)
    digits = sklearn_digits()
    images = (digits.images.astype(np.float32) / 16.0)[..., np.newaxis]
    if image_size != 8:
        from skimage.transform import resize

        images = resize(images, (len(images), image_size, image_size, 1), order=1,
                        anti_aliasing=False, preserve_range=True).astype(np.float32)
        images = np.clip(images, 0.0, 1.0)
    labels = digits.target.astype(np.int64)
    # test: 20% of all (seed 0); val: 20% of all, a quarter of the rest (seed 1)
    x_rest, x_test, y_rest, y_test = train_test_split(images, labels, test_size=0.2, stratify=labels, random_state=0)
    x_train, x_val, y_train, y_val = train_test_split(x_rest, y_rest, test_size=0.25, stratify=y_rest, random_state=1)
    return ImageDataset("digits", x_train, y_train, x_val, y_val, x_test, y_test,
                        class_names=tuple(str(d) for d in range(10)))


def load_photo_patches(*, patch_size: int = 32, test_per_class: int = 100, scale: float = 0.5) -> ImageDataset:
    """A natural-image classification set: patches of real photographs, labelled by photograph.

    Each photograph (rescaled by `scale`) is cut into blocks of 2 x patch_size pixels, given to
    train (60%), val (20%) or test (20%) by a seeded draw; patches are sampled wholly inside the
    blocks of their split, so no pixel of a test patch was seen in training. The same call
    always returns the same arrays: images [N, patch_size, patch_size, 3] float32 in [0, 1], per
    class (`PHOTO_NAMES`) 300 for train, 100 for val and `test_per_class` for test.
    """
    patch_size = validation.as_int("patch_size", patch_size, minimum=8, maximum=128)
    counts = {"train": 300, "val": 100, "test": validation.as_int("test_per_class", test_per_class, minimum=1)}
    scale = validation.as_float("scale", scale, minimum=0.1, maximum=1.0)
    from skimage.transform import rescale

    rng = np.random.default_rng(0)
    block = 2 * patch_size
    out = {split: ([], []) for split in counts}
    for label, name in enumerate(PHOTO_NAMES):
        photo = load_photo(name)
        if scale != 1.0:
            photo = rescale(photo, scale, order=1, channel_axis=-1, anti_aliasing=scale < 1,
                            preserve_range=True).astype(np.float32)
        rows, cols = photo.shape[0] // block, photo.shape[1] // block
        if rows * cols < 3:
            raise ValueError(f"scale: photograph {name!r} is too small at scale {scale} for "
                             f"patch_size {patch_size} (needs 3 blocks of {block} px)")
        # Assign blocks to splits: a seeded permutation, at least one block per split.
        order = rng.permutation(rows * cols)
        n_val = n_test = max(1, round(0.2 * len(order)))
        assignment = {"val": order[:n_val], "test": order[n_val:n_val + n_test],
                      "train": order[n_val + n_test:]}
        for split, blocks in assignment.items():
            chosen = rng.choice(blocks, size=counts[split], replace=True)
            offsets = rng.integers(0, block - patch_size + 1, size=(counts[split], 2))
            for index, (dy, dx) in zip(chosen, offsets):
                y = (index // cols) * block + dy
                x = (index % cols) * block + dx
                out[split][0].append(photo[y:y + patch_size, x:x + patch_size])
                out[split][1].append(label)

    arrays = []
    for split in ("train", "val", "test"):
        images = np.stack(out[split][0]).astype(np.float32)
        labels = np.asarray(out[split][1], dtype=np.int64)
        shuffle = rng.permutation(len(labels))
        arrays += [np.clip(images[shuffle], 0.0, 1.0), labels[shuffle]]
    return ImageDataset("photo patches", *arrays, class_names=PHOTO_NAMES)
