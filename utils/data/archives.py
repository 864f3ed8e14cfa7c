"""Loaders for CIFAR-10, MNIST and Fashion-MNIST that read the standard archives from the
Keras cache (`$KERAS_HOME/datasets`, default `~/.keras/datasets`) and never download.

The course's notebooks run offline on the datasets that installed packages ship; these
loaders are for readers who already have the archives (e.g. from an earlier
`keras.datasets.cifar10.load_data()` on a networked machine). Each archive's checksum is
verified before it is read. When an archive is missing the error says how to obtain it.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import pathlib
import pickle
import tarfile

import numpy as np

from utils import validation
from utils.data.dataset import ImageDataset, stratified_split

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
                   "dog", "frog", "horse", "ship", "truck")
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")

# The archive Keras downloads for CIFAR-10 (cifar-10-python.tar.gz), by SHA-256 as in
# keras.datasets.cifar10; Keras 3 stores it as "cifar-10-batches-py-target_archive",
# older Keras as "cifar-10-batches-py.tar.gz".
CIFAR10_SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
CIFAR10_ARCHIVE_NAMES = ("cifar-10-batches-py-target_archive", "cifar-10-batches-py.tar.gz",
                         "cifar-10-python.tar.gz")
MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
# Fashion-MNIST's four files and their published MD5 sums (Zalando Research's README).
FASHION_MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
}


class DatasetNotAvailable(FileNotFoundError):
    """The archive is not in the cache; the message says how to obtain it."""


def keras_datasets_dir(cache_dir: str | os.PathLike | None = None) -> pathlib.Path:
    """Where Keras keeps downloaded datasets: `cache_dir`, else $KERAS_HOME/datasets, else
    ~/.keras/datasets."""
    if cache_dir is not None:
        if not isinstance(cache_dir, (str, os.PathLike)):
            raise TypeError(f"cache_dir: expected a path, got {type(cache_dir).__name__}")
        return pathlib.Path(cache_dir)
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return pathlib.Path(home) / "datasets"


def file_digest(path: str | os.PathLike, algorithm: str = "sha256") -> str:
    """Hex digest of a file, read in chunks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _verify(path: pathlib.Path, expected: str | None, algorithm: str) -> None:
    if expected is None:
        return
    actual = file_digest(path, algorithm)
    if actual != expected:
        raise ValueError(f"{path}: {algorithm} checksum mismatch (expected {expected}, got "
                         f"{actual}); the file is corrupt or not the standard archive. Delete it "
                         "and obtain it again.")


def _missing(what: str, looked: list[pathlib.Path], how: str) -> DatasetNotAvailable:
    places = "\n  ".join(str(p) for p in looked)
    return DatasetNotAvailable(
        f"{what} is not in the Keras cache. Looked for:\n  {places}\n"
        f"This course never downloads data at run time. To use {what}, on a machine with "
        f"network access run\n  {how}\nonce, then copy the files above into "
        f"{looked[0].parent} (or set KERAS_HOME / pass cache_dir=)."
    )


def _to_dataset(name, x_train, y_train, x_test, y_test, class_names, val_fraction, seed):
    """uint8 [N, H, W(, C)] images -> ImageDataset, float32 NHWC in [0, 1], val split from train."""
    val_fraction = validation.as_fraction("val_fraction", val_fraction)
    seed = validation.as_int("seed", seed, minimum=0)

    def prepare(x):
        x = np.asarray(x)
        if x.ndim == 3:
            x = x[..., np.newaxis]
        return x.astype(np.float32) / 255.0

    x_train, x_test = prepare(x_train), prepare(x_test)
    y_train = np.asarray(y_train, dtype=np.int64).reshape(-1)
    y_test = np.asarray(y_test, dtype=np.int64).reshape(-1)
    train, val, _ = stratified_split(x_train, y_train, val_fraction=val_fraction,
                                     test_fraction=0.0, seed=seed)
    return ImageDataset(name, *train, *val, x_test, y_test, class_names=class_names)


def _cifar_batch(raw: bytes) -> tuple[np.ndarray, np.ndarray]:
    batch = pickle.loads(raw, encoding="bytes")
    data = np.asarray(batch[b"data"], dtype=np.uint8)
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise ValueError(f"CIFAR-10 batch: expected data of shape [N, 3072], got {data.shape}")
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)  # stored channel-first
    labels = np.asarray(batch[b"labels"], dtype=np.int64)
    return images, labels


def load_cifar10(*, cache_dir=None, val_fraction: float = 0.1, seed: int = 0,
                 expected_sha256: str | None = CIFAR10_SHA256) -> ImageDataset:
    """CIFAR-10 from the Keras cache: 50,000 training (minus val) and 10,000 test images.

    Reads the downloaded archive (checksummed with `expected_sha256`) or, failing that, the
    directory Keras extracted it to (`cifar-10-batches-py`, not checksummable). Images
    [N, 32, 32, 3] float32 in [0, 1].
    """
    root = keras_datasets_dir(cache_dir)
    archives = [root / name for name in CIFAR10_ARCHIVE_NAMES]
    folders = [root / "cifar-10-batches-py-target" / "cifar-10-batches-py", root / "cifar-10-batches-py"]
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    batches = None
    for archive in archives:
        if archive.is_file():
            _verify(archive, expected_sha256, "sha256")
            with tarfile.open(archive, "r:*") as tar:
                members = {pathlib.PurePosixPath(m.name).name: m for m in tar.getmembers() if m.isfile()}
                missing = [n for n in names if n not in members]
                if missing:
                    raise ValueError(f"{archive}: not a CIFAR-10 archive (missing {', '.join(missing)})")
                batches = [_cifar_batch(tar.extractfile(members[n]).read()) for n in names]
            break
    else:
        for folder in folders:
            if all((folder / n).is_file() for n in names):
                batches = [_cifar_batch((folder / n).read_bytes()) for n in names]
                break
    if batches is None:
        raise _missing("CIFAR-10", archives + folders, "python -c \"import keras; keras.datasets.cifar10.load_data()\"")
    x_train = np.concatenate([b[0] for b in batches[:5]])
    y_train = np.concatenate([b[1] for b in batches[:5]])
    x_test, y_test = batches[5]
    return _to_dataset("CIFAR-10", x_train, y_train, x_test, y_test, CIFAR10_CLASSES, val_fraction, seed)


def load_mnist(*, cache_dir=None, val_fraction: float = 0.1, seed: int = 0,
               expected_sha256: str | None = MNIST_SHA256) -> ImageDataset:
    """MNIST from the Keras cache (`mnist.npz`, checksummed). Images [N, 28, 28, 1] float32
    in [0, 1]."""
    path = keras_datasets_dir(cache_dir) / "mnist.npz"
    if not path.is_file():
        raise _missing("MNIST", [path], "python -c \"import keras; keras.datasets.mnist.load_data()\"")
    _verify(path, expected_sha256, "sha256")
    with np.load(path, allow_pickle=False) as arrays:
        missing = {"x_train", "y_train", "x_test", "y_test"} - set(arrays.files)
        if missing:
            raise ValueError(f"{path}: not the MNIST archive (missing {', '.join(sorted(missing))})")
        parts = [arrays[k] for k in ("x_train", "y_train", "x_test", "y_test")]
    return _to_dataset("MNIST", *parts, tuple(str(d) for d in range(10)), val_fraction, seed)


def _idx(raw: bytes, magic: int) -> np.ndarray:
    """Parse an IDX file (MNIST's format): big-endian magic, sizes, then uint8 data."""
    header = np.frombuffer(raw[:4], dtype=">u4")[0]
    if header != magic:
        raise ValueError(f"IDX file: expected magic number {magic}, got {header}")
    ndim = magic & 0xFF
    shape = tuple(int(s) for s in np.frombuffer(raw[4:4 + 4 * ndim], dtype=">u4"))
    data = np.frombuffer(raw[4 + 4 * ndim:], dtype=np.uint8)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"IDX file: header says {shape}, found {data.size} values")
    return data.reshape(shape)


def load_fashion_mnist(*, cache_dir=None, val_fraction: float = 0.1, seed: int = 0,
                       expected_md5: dict[str, str] | None = None) -> ImageDataset:
    """Fashion-MNIST from the Keras cache (`fashion-mnist/*.gz`, each checked against the
    published MD5). Images [N, 28, 28, 1] float32 in [0, 1]."""
    folder = keras_datasets_dir(cache_dir) / "fashion-mnist"
    checksums = FASHION_MNIST_MD5 if expected_md5 is None else expected_md5
    paths = {name: folder / name for name in FASHION_MNIST_MD5}
    if not all(p.is_file() for p in paths.values()):
        raise _missing("Fashion-MNIST", list(paths.values()),
                       "python -c \"import keras; keras.datasets.fashion_mnist.load_data()\"")
    arrays = {}
    for name, path in paths.items():
        _verify(path, checksums.get(name), "md5")
        with gzip.open(io.BytesIO(path.read_bytes())) as handle:
            arrays[name] = _idx(handle.read(), 2051 if "images" in name else 2049)
    return _to_dataset("Fashion-MNIST", arrays["train-images-idx3-ubyte.gz"],
                       arrays["train-labels-idx1-ubyte.gz"], arrays["t10k-images-idx3-ubyte.gz"],
                       arrays["t10k-labels-idx1-ubyte.gz"], FASHION_MNIST_CLASSES, val_fraction, seed)
