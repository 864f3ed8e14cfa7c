"""The real-dataset loaders, exercised on small fake archives written to a temporary folder."""

import gzip
import hashlib
import io
import pickle
import tarfile

import numpy as np
import pytest

from utils import data
from utils.data import archives


def _cifar_batch(rng, count):
    images = rng.integers(0, 256, size=(count, 32, 32, 3), dtype=np.uint8)
    labels = np.arange(count) % 10
    flat = images.transpose(0, 3, 1, 2).reshape(count, -1)  # CIFAR stores channel-first rows
    return images, labels, pickle.dumps({b"data": flat, b"labels": labels.tolist()})


@pytest.fixture
def fake_cifar(tmp_path):
    rng = np.random.default_rng(0)
    batches = {f"data_batch_{i}": _cifar_batch(rng, 20) for i in range(1, 6)}
    batches["test_batch"] = _cifar_batch(rng, 10)
    archive = tmp_path / "cifar-10-batches-py-target_archive"
    with tarfile.open(archive, "w:gz") as tar:
        for name, (_, _, raw) in batches.items():
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    return tmp_path, archive, batches


def test_cifar10_from_archive_is_nhwc_and_checksummed(fake_cifar):
    folder, archive, batches = fake_cifar
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    dataset = data.load_cifar10(cache_dir=folder, expected_sha256=digest, val_fraction=0.2)
    assert dataset.class_names[0] == "airplane"
    assert dataset.x_train.shape[1:] == (32, 32, 3) and dataset.x_train.dtype == np.float32
    assert len(dataset.y_train) + len(dataset.y_val) == 100 and len(dataset.y_test) == 10
    # the test images come back in NHWC with the original pixel values / 255
    np.testing.assert_allclose(dataset.x_test, batches["test_batch"][0] / 255.0, atol=1e-7)
    np.testing.assert_array_equal(dataset.y_test, batches["test_batch"][1])


def test_cifar10_rejects_a_wrong_checksum(fake_cifar):
    folder, _, _ = fake_cifar
    with pytest.raises(ValueError, match="checksum mismatch"):
        data.load_cifar10(cache_dir=folder)  # the real archive's SHA-256 does not match


def test_cifar10_extracted_folder(fake_cifar, tmp_path):
    _, archive, batches = fake_cifar
    folder = tmp_path / "extracted"
    with tarfile.open(archive) as tar:
        tar.extractall(folder / "cifar-10-batches-py-target", filter="data")
    dataset = data.load_cifar10(cache_dir=folder, val_fraction=0.2)
    np.testing.assert_allclose(dataset.x_test, batches["test_batch"][0] / 255.0, atol=1e-7)


def test_missing_archives_say_how_to_get_them(tmp_path):
    for loader, words in [(data.load_cifar10, "cifar10.load_data"), (data.load_mnist, "mnist.load_data"),
                          (data.load_fashion_mnist, "fashion_mnist.load_data")]:
        with pytest.raises(data.DatasetNotAvailable, match=words) as info:
            loader(cache_dir=tmp_path)
        assert "never downloads" in str(info.value)
        assert isinstance(info.value, FileNotFoundError)


def test_mnist_npz(tmp_path):
    rng = np.random.default_rng(1)
    arrays = {"x_train": rng.integers(0, 256, (40, 28, 28), dtype=np.uint8), "y_train": np.arange(40) % 10,
              "x_test": rng.integers(0, 256, (10, 28, 28), dtype=np.uint8), "y_test": np.arange(10)}
    path = tmp_path / "mnist.npz"
    np.savez(path, **arrays)
    digest = archives.file_digest(path)
    dataset = data.load_mnist(cache_dir=tmp_path, expected_sha256=digest, val_fraction=0.25)
    assert dataset.x_train.shape[1:] == (28, 28, 1)
    np.testing.assert_allclose(dataset.x_test[..., 0], arrays["x_test"] / 255.0, atol=1e-7)
    with pytest.raises(ValueError, match="checksum"):
        data.load_mnist(cache_dir=tmp_path)


def _idx(array, magic):
    header = np.array([magic, *array.shape], dtype=">u4").tobytes()
    return gzip.compress(header + array.astype(np.uint8).tobytes())


def test_fashion_mnist_idx_files(tmp_path):
    rng = np.random.default_rng(2)
    folder = tmp_path / "fashion-mnist"
    folder.mkdir()
    x_train, y_train = rng.integers(0, 256, (40, 28, 28)), np.arange(40) % 10
    x_test, y_test = rng.integers(0, 256, (10, 28, 28)), np.arange(10)
    files = {"train-images-idx3-ubyte.gz": _idx(x_train, 2051), "train-labels-idx1-ubyte.gz": _idx(y_train, 2049),
             "t10k-images-idx3-ubyte.gz": _idx(x_test, 2051), "t10k-labels-idx1-ubyte.gz": _idx(y_test, 2049)}
    for name, raw in files.items():
        (folder / name).write_bytes(raw)
    md5 = {name: hashlib.md5(raw).hexdigest() for name, raw in files.items()}
    dataset = data.load_fashion_mnist(cache_dir=tmp_path, expected_md5=md5, val_fraction=0.25)
    assert dataset.class_names[-1] == "Ankle boot"
    np.testing.assert_array_equal(dataset.y_test, y_test)
    np.testing.assert_allclose(dataset.x_test[..., 0], x_test / 255.0, atol=1e-7)
    with pytest.raises(ValueError, match="md5 checksum mismatch"):
        data.load_fashion_mnist(cache_dir=tmp_path)  # the published MD5s do not match fakes
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(_idx(y_test, 2051))
    md5["t10k-labels-idx1-ubyte.gz"] = hashlib.md5((folder / "t10k-labels-idx1-ubyte.gz").read_bytes()).hexdigest()
    with pytest.raises(ValueError, match="magic number"):
        data.load_fashion_mnist(cache_dir=tmp_path, expected_md5=md5)


def test_cache_dir_type_and_default(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert data.keras_datasets_dir() == tmp_path / "datasets"
    with pytest.raises(TypeError, match="cache_dir"):
        data.keras_datasets_dir(42)
