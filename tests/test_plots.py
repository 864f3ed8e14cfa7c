import numpy as np
import pytest

from utils import plots


def test_image_grid_layout_and_captions():
    images = np.random.default_rng(0).uniform(size=(10, 8, 8, 3)).astype("float32")
    fig = plots.image_grid(images, labels=[0] * 10, predictions=[0] * 9 + [1],
                           class_names=["a", "b"], num_columns=4)
    axes = fig.get_axes()
    assert len(axes) == 12  # 3 rows of 4
    titles = [ax.get_title() for ax in axes[:10]]
    assert titles[0] == "a" and titles[9] == "b\n(true: a)"


def test_image_grid_grayscale_and_errors():
    plots.image_grid(np.zeros((2, 8, 8, 1), "float32"))
    with pytest.raises(ValueError, match="images"):
        plots.image_grid(np.zeros((8, 8, 3), "float32"))
    with pytest.raises(ValueError, match="NCHW"):
        plots.image_grid(np.zeros((2, 3, 8, 8), "float32"))
    with pytest.raises(ValueError, match="labels: expected 2"):
        plots.image_grid(np.zeros((2, 8, 8, 3), "float32"), labels=[0])
    with pytest.raises(ValueError, match="images: expected at least one"):
        plots.image_grid(np.zeros((0, 8, 8, 3), "float32"))


def test_training_curves_runs_and_validation():
    history = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7], "accuracy": [0.5, 0.8]}
    fig = plots.training_curves(history, metrics=("loss", "accuracy"))
    assert len(fig.get_axes()) == 2
    assert len(fig.get_axes()[0].lines) == 2  # train and val
    fig = plots.training_curves({"relu": history, "tanh": history})
    assert len(fig.get_axes()[0].lines) == 4
    with pytest.raises(ValueError, match="no 'auc'"):
        plots.training_curves(history, metrics="auc")
    with pytest.raises(TypeError, match="histories"):
        plots.training_curves([1, 2])


def test_filters_and_confusion_matrix():
    kernel = np.random.default_rng(0).normal(size=(5, 5, 3, 6)).astype("float32")
    assert len(plots.filters(kernel).get_axes()) == 6
    with pytest.raises(ValueError, match="k_h, k_w, C_in, C_out"):
        plots.filters(kernel[0])
    fig = plots.confusion_matrix([0, 1, 2, 2], [0, 2, 2, 2], class_names=["a", "b", "c"])
    texts = [t.get_text() for t in fig.get_axes()[0].texts]
    assert texts.count("2") == 1 and len(texts) == 9
    with pytest.raises(ValueError, match="class_names"):
        plots.confusion_matrix([0, 1, 2], [0, 1, 2], class_names=["a"])


def test_grid_returns_only_the_panels_asked_for():
    fig, axes = plots.grid(5, num_columns=3, title="t")
    assert len(axes) == 5 and len(fig.get_axes()) == 6
