"""utils.conv against TensorFlow and Keras: output sizes, im2col, conv2d (stride, padding, dilation, groups)."""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

from utils import conv  # noqa: E402


def _relative_error(a, b):
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-12))


def _random_case(rng):
    groups = int(rng.choice([1, 1, 2, 3]))
    c_in = groups * int(rng.integers(1, 4))
    c_out = groups * int(rng.integers(1, 4))
    k_h, k_w = (int(v) for v in rng.integers(1, 5, size=2))
    # TensorFlow's CPU kernels do not combine stride > 1 with dilation > 1.
    if rng.random() < 0.5:
        stride, dilation = (int(v) for v in rng.integers(1, 4, size=2)), (1, 1)
    else:
        stride, dilation = (1, 1), (int(v) for v in rng.integers(1, 3, size=2))
    stride, dilation = tuple(stride), tuple(dilation)
    height = int(rng.integers(dilation[0] * (k_h - 1) + 1, 14))
    width = int(rng.integers(dilation[1] * (k_w - 1) + 1, 14))
    x = rng.standard_normal((int(rng.integers(1, 4)), height, width, c_in)).astype(np.float32)
    kernel = rng.standard_normal((k_h, k_w, c_in // groups, c_out)).astype(np.float32)
    return x, kernel, stride, dilation, groups


def _tf_conv(x, kernel, stride, padding, dilation, groups):
    """tf.nn.conv2d in float64, with explicit padding as [[0, 0], [p, p], [p, p], [0, 0]]; groups by splitting.

    float64 runs TensorFlow's Eigen kernels. Its float32 oneDNN kernels (TF 2.21 on CPU) return wrong
    values, even uninitialised memory, when C_in = 1, the output is one pixel wide and only the
    width is strided (e.g. x [3, 8, 4, 1], kernel [1, 3, 1, 3], strides (1, 2)); see
    test_tensorflow_float32_oddity_is_not_ours.
    """
    x, kernel = x.astype(np.float64), kernel.astype(np.float64)
    if isinstance(padding, int):
        padding = [[0, 0], [padding, padding], [padding, padding], [0, 0]]
    else:
        padding = padding.upper()
    xs = np.split(x, groups, axis=-1)
    ks = np.split(kernel, groups, axis=-1)
    outs = [tf.nn.conv2d(a, b, strides=stride, padding=padding, dilations=dilation).numpy() for a, b in zip(xs, ks)]
    return np.concatenate(outs, axis=-1)


@pytest.mark.parametrize("case_seed, padding", list(enumerate(["valid", "same", 0, 1, 2])))
def test_conv2d_equals_tf_nn_conv2d_on_random_cases(case_seed, padding):
    rng = np.random.default_rng(case_seed)
    for _ in range(40):
        x, kernel, stride, dilation, groups = _random_case(rng)
        bias = rng.standard_normal(kernel.shape[-1]).astype(np.float32)
        expected = _tf_conv(x, kernel, stride, padding, dilation, groups) + bias
        got = conv.conv2d(x, kernel, bias, stride=stride, padding=padding, dilation=dilation, groups=groups)
        assert got.shape == expected.shape
        assert got.dtype == np.float32
        assert _relative_error(got, expected.astype(np.float32)) < 1e-4, (x.shape, kernel.shape, stride, padding, dilation, groups)
        naive = conv.conv2d_naive(x, kernel, bias, stride=stride, padding=padding, dilation=dilation, groups=groups)
        assert _relative_error(naive, expected) < 1e-4
        # Blocked im2col, TensorFlow's GEMM and worker threads compute the same convolution.
        for options in ({"block": 1}, {"block": 2, "workers": 2}, {"block": 2, "matmul": conv.tensorflow_matmul}):
            blocked = conv.conv2d(x, kernel, bias, stride=stride, padding=padding, dilation=dilation, groups=groups,
                                  **options)
            assert blocked.shape == expected.shape and blocked.dtype == np.float32
            assert _relative_error(blocked, expected) < 1e-4, options


def test_tensorflow_float32_oddity_is_not_ours():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 8, 4, 1)).astype(np.float32)
    kernel = rng.standard_normal((1, 3, 1, 3)).astype(np.float32)
    by_hand = np.einsum("nhwc,hwco->no", x[:, :, None, 0:3, :].reshape(3 * 8, 1, 3, 1), kernel)
    got = conv.conv2d(x, kernel, stride=(1, 2))
    np.testing.assert_allclose(got.reshape(-1, 3), by_hand, rtol=1e-5, atol=1e-5)
    reference = tf.nn.conv2d(x.astype(np.float64), kernel.astype(np.float64), strides=(1, 2), padding="VALID")
    np.testing.assert_allclose(got, reference.numpy(), rtol=1e-5, atol=1e-5)


def test_same_padding_puts_the_odd_pixel_bottom_right_like_tensorflow():
    # A 1x1 input pixel pattern makes the offset visible: 4x4 input, 2x2 kernel, stride 1 -> pad (0, 1).
    assert conv.same_padding(4, 2) == (0, 1)
    assert conv.same_padding(5, 4, 2) == (1, 2)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 6, 7, 1)).astype(np.float32)
    for k_h, k_w, s in [(2, 2, 1), (4, 3, 2), (2, 5, 3)]:
        kernel = rng.standard_normal((k_h, k_w, 1, 1)).astype(np.float32)
        expected = tf.nn.conv2d(x, kernel, strides=s, padding="SAME").numpy()
        got = conv.conv2d(x, kernel, stride=s, padding="same")
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_conv2d_equals_keras_conv2d_with_groups():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 9, 9, 6)).astype(np.float32)
    for groups, padding, stride in [(1, "valid", 1), (2, "same", 2), (3, "same", 1), (6, "valid", 2)]:
        layer = keras.layers.Conv2D(12, 3, strides=stride, padding=padding, groups=groups)
        expected = layer(x).numpy()
        kernel, bias = (w.numpy() for w in layer.weights)
        got = conv.conv2d(x, kernel, bias, stride=stride, padding=padding, groups=groups)
        assert _relative_error(got, expected) < 1e-4


def test_conv2d_float64_and_mixed_dtypes():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, 5, 5, 2))
    kernel = rng.standard_normal((3, 3, 2, 4)).astype(np.float32)
    got = conv.conv2d(x, kernel)
    assert got.dtype == np.float64
    expected = tf.nn.conv2d(x, kernel.astype(np.float64), 1, "VALID").numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_im2col_rows_are_patches_in_ijc_order():
    x = np.arange(2 * 4 * 5 * 3, dtype=np.float32).reshape(2, 4, 5, 3)
    columns = conv.im2col(x, (2, 3), stride=(1, 2))
    assert columns.shape == (2 * 3 * 2, 2 * 3 * 3)
    np.testing.assert_array_equal(columns[0], x[0, 0:2, 0:3].reshape(-1))
    np.testing.assert_array_equal(columns[1], x[0, 0:2, 2:5].reshape(-1))
    np.testing.assert_array_equal(columns[-1], x[1, 2:4, 2:5].reshape(-1))
    # Against TensorFlow's own patch extraction.
    patches = tf.image.extract_patches(x, sizes=[1, 2, 3, 1], strides=[1, 1, 2, 1], rates=[1, 1, 1, 1],
                                       padding="VALID").numpy()
    np.testing.assert_array_equal(columns, patches.reshape(-1, 18))


def test_im2col_matches_extract_patches_with_same_padding_and_dilation():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 7, 6, 3)).astype(np.float32)
    for size, stride, rate, padding in [((3, 3), (1, 1), (2, 2), "VALID"), ((3, 2), (2, 2), (1, 1), "SAME")]:
        patches = tf.image.extract_patches(x, sizes=[1, *size, 1], strides=[1, *stride, 1], rates=[1, *rate, 1],
                                           padding=padding).numpy()
        got = conv.im2col(x, size, stride=stride, padding=padding.lower(), dilation=rate)
        np.testing.assert_array_equal(got, patches.reshape(got.shape))


def test_conv_output_size_equals_keras_over_a_grid():
    for size in range(3, 12):
        for kernel in range(1, 5):
            for stride in range(1, 4):
                for dilation in (1, 2):
                    if dilation * (kernel - 1) + 1 > size or (stride > 1 and dilation > 1):
                        continue
                    for padding in ("valid", "same"):
                        layer = keras.layers.Conv2D(1, kernel, strides=stride, padding=padding, dilation_rate=dilation)
                        expected = layer.compute_output_shape((1, size, size, 1))[1]
                        assert conv.conv_output_size(size, kernel, stride, padding, dilation) == expected
                    for padding in range(0, 3):
                        keras_model = keras.Sequential(
                            [keras.Input((size, size, 1)), keras.layers.ZeroPadding2D(padding),
                             keras.layers.Conv2D(1, kernel, strides=stride, dilation_rate=dilation)]
                        )
                        assert conv.conv_output_size(size, kernel, stride, padding, dilation) == keras_model.output_shape[1]


def test_conv_transpose_output_size_equals_keras():
    for size in range(1, 8):
        for kernel in range(1, 5):
            for stride in range(1, 4):
                for padding in ("valid", "same"):
                    layer = keras.layers.Conv2DTranspose(1, kernel, strides=stride, padding=padding)
                    out = layer(np.zeros((1, size, size, 1), np.float32)).shape[1]
                    assert conv.conv_transpose_output_size(size, kernel, stride, padding) == out
                for output_padding in range(stride):
                    layer = keras.layers.Conv2DTranspose(1, kernel, strides=stride, padding="valid",
                                                         output_padding=output_padding)
                    out = layer(np.zeros((1, size, size, 1), np.float32)).shape[1]
                    assert conv.conv_transpose_output_size(size, kernel, stride, 0, 1, output_padding) == out


def test_bad_shapes_name_both_shapes():
    x = np.zeros((2, 8, 8, 4), np.float32)
    with pytest.raises(ValueError, match=r"kernel.*\(2, 8, 8, 4\).*\(3, 3, 3, 5\)"):
        conv.conv2d(x, np.zeros((3, 3, 3, 5), np.float32))
    with pytest.raises(ValueError, match="NHWC"):
        conv.conv2d(np.zeros((8, 8, 4), np.float32), np.zeros((3, 3, 4, 5), np.float32))
    with pytest.raises(ValueError, match="kernel"):
        conv.conv2d(x, np.zeros((3, 3, 4), np.float32))
    with pytest.raises(ValueError, match="groups"):
        conv.conv2d(x, np.zeros((3, 3, 4, 5), np.float32), groups=3)
    with pytest.raises(ValueError, match="divisible by groups"):
        conv.conv2d(x, np.zeros((3, 3, 2, 5), np.float32), groups=2)
    with pytest.raises(ValueError, match="bias"):
        conv.conv2d(x, np.zeros((3, 3, 4, 5), np.float32), np.zeros(4, np.float32))
    with pytest.raises(ValueError, match="does not fit|spans"):
        conv.conv2d(x, np.zeros((9, 9, 4, 5), np.float32))


def test_bad_values_and_types():
    x = np.zeros((1, 8, 8, 2), np.float32)
    kernel = np.zeros((3, 3, 2, 2), np.float32)
    with pytest.raises(TypeError, match="x: expected a floating point"):
        conv.conv2d(x.astype(np.int32), kernel)
    with pytest.raises(ValueError, match="padding"):
        conv.conv2d(x, kernel, padding="full")
    with pytest.raises(TypeError, match="padding"):
        conv.conv2d(x, kernel, padding=1.5)
    with pytest.raises(ValueError, match="stride"):
        conv.conv2d(x, kernel, stride=0)
    with pytest.raises(TypeError, match="dilation"):
        conv.conv2d(x, kernel, dilation=1.0)
    with pytest.raises(ValueError, match="stride"):
        conv.im2col(x, 3, stride=(1, 2, 3))
    with pytest.raises(ValueError, match="kernel"):
        conv.conv_output_size(4, 7)
    with pytest.raises(ValueError, match="size"):
        conv.conv_output_size(0, 3)
    with pytest.raises(TypeError, match="padding"):
        conv.conv_output_size(5, 3, padding=None)
    with pytest.raises(ValueError, match="output_padding"):
        conv.conv_transpose_output_size(5, 3, stride=2, output_padding=2)


def test_padding_wider_than_the_kernel_leaves_only_border_taps():
    # Padding so wide that no output pixel has all k_w taps inside the input (the im2col copies
    # then come only from the per-tap border path), and output pixels that see only padding.
    rng = np.random.default_rng(5)
    for shape, k, padding, stride in [((2, 2, 1, 3), (3, 4), 3, 1), ((1, 3, 2, 2), (2, 3), 2, (2, 1)),
                                      ((1, 1, 1, 1), (1, 1), 2, 1), ((2, 5, 3, 2), (4, 4), 3, 2)]:
        x = rng.standard_normal(shape).astype(np.float32)
        kernel = rng.standard_normal((*k, shape[-1], 2)).astype(np.float32)
        expected = _tf_conv(x, kernel, stride, padding, (1, 1), 1)
        for block in (None, 1):
            got = conv.conv2d(x, kernel, stride=stride, padding=padding, block=block)
            assert _relative_error(got, expected) < 1e-5, (shape, k, padding, stride, block)


def test_blocked_buffers_are_not_shared_between_geometries():
    # Both layers have 8x8 outputs and 3x3 kernels, so their block buffers have the same shape,
    # but "same" leaves zeros at the border that "valid" overwrites: a buffer kept between calls
    # must belong to one geometry. Alternate them, with a smaller last block, on this thread and on workers.
    rng = np.random.default_rng(6)
    layers = [(rng.standard_normal((3, 8, 8, 2)).astype(np.float32), "same"),
              (rng.standard_normal((3, 10, 10, 2)).astype(np.float32), "valid")]
    kernel = rng.standard_normal((3, 3, 2, 4)).astype(np.float32)
    for _ in range(3):
        for x, padding in layers:
            expected = tf.nn.conv2d(x.astype(np.float64), kernel.astype(np.float64), 1, padding.upper()).numpy()
            for workers in (1, 2):
                got = conv.conv2d(x, kernel, padding=padding, block=2, workers=workers)
                assert _relative_error(got, expected) < 1e-5, (padding, workers)


def test_tensorflow_matmul_equals_numpy_without_crashing_on_unaligned_memory():
    rng = np.random.default_rng(7)
    raw = rng.standard_normal(4000).astype(np.float32)
    for offset in range(4):  # views starting 4, 8, 12 bytes past a boundary: TensorFlow needs 64
        a = raw[offset:offset + 35 * 17].reshape(35, 17)
        b = raw[1000 + offset:1000 + offset + 17 * 6].reshape(17, 6)
        np.testing.assert_allclose(conv.tensorflow_matmul(a, b), a @ b, rtol=1e-5, atol=1e-5)
    a3 = rng.standard_normal((3, 5, 4))
    b3 = rng.standard_normal((3, 4, 2))[:, :, ::-1]  # batched, float64, not contiguous
    got = conv.tensorflow_matmul(a3, b3)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, np.matmul(a3, b3), rtol=1e-12)


def test_bad_blocking_arguments():
    x = np.zeros((4, 6, 6, 2), np.float32)
    kernel = np.zeros((3, 3, 2, 3), np.float32)
    with pytest.raises(ValueError, match="block"):
        conv.conv2d(x, kernel, block=0)
    with pytest.raises(TypeError, match="block"):
        conv.conv2d(x, kernel, block=1.5)
    with pytest.raises(ValueError, match="workers.*block"):
        conv.conv2d(x, kernel, workers=2)
    with pytest.raises(ValueError, match="workers"):
        conv.conv2d(x, kernel, block=1, workers=0)
    with pytest.raises(TypeError, match="matmul: expected a function"):
        conv.conv2d(x, kernel, matmul="numpy")
    with pytest.raises(ValueError, match=r"matmul: .* returned shape \(3, 2\)"):
        conv.conv2d(x, kernel, matmul=lambda a, b: np.zeros((3, 2), np.float32))
    with pytest.raises(TypeError, match="a: expected a NumPy float array"):
        conv.tensorflow_matmul([[1.0]], np.ones((1, 1)))
    with pytest.raises(TypeError, match="b: expected a NumPy float array.*int64"):
        conv.tensorflow_matmul(np.ones((1, 1)), np.ones((1, 1), np.int64))
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(2, 3\)"):
        conv.tensorflow_matmul(np.ones((2, 3)), np.ones((2, 3)))


def test_concurrent_callers_share_the_worker_threads_safely():
    # Two threads call conv2d at once, with different geometries, through the same pool of workers;
    # each worker keeps its own buffers, so neither caller sees the other's patches.
    import concurrent.futures

    rng = np.random.default_rng(8)
    jobs = [(rng.standard_normal((5, 9, 7, 4)).astype(np.float32), rng.standard_normal((3, 3, 4, 6)).astype(np.float32),
             "same", 1),
            (rng.standard_normal((6, 8, 8, 4)).astype(np.float32), rng.standard_normal((2, 4, 2, 6)).astype(np.float32),
             "valid", 2)]
    expected = [_tf_conv(x, k, 1, padding, (1, 1), groups) for x, k, padding, groups in jobs]

    def run(index):
        x, k, padding, groups = jobs[index]
        return [conv.conv2d(x, k, padding=padding, groups=groups, block=2, workers=2) for _ in range(10)]

    with concurrent.futures.ThreadPoolExecutor(2) as callers:
        results = list(callers.map(run, [0, 1]))
    for got_list, reference in zip(results, expected):
        for got in got_list:
            assert _relative_error(got, reference) < 1e-5


def test_pytorch_layout_kernel_is_refused_even_when_its_shape_fits():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((1, 10, 10, 3)).astype(np.float32)
    torch_kernel = rng.standard_normal((16, 3, 3, 3)).astype(np.float32)  # [C_out, C_in, k_h, k_w]
    # read as HWIO it is a 16x3 kernel from 3 to 3 channels, which "same" padding would accept
    for function in (conv.conv2d, conv.conv2d_naive):
        with pytest.raises(ValueError, match=r"kernel:.*HWIO.*a 16x3 kernel.*PyTorch.*transpose\(2, 3, 1, 0\)"):
            function(x, torch_kernel, padding="same")
    # when its shape does not fit, the message also names the layout and the fix
    with pytest.raises(ValueError, match=r"kernel:.*HWIO.*PyTorch.*transpose\(2, 3, 1, 0\)"):
        conv.conv2d(x, rng.standard_normal((8, 3, 5, 5)).astype(np.float32))
    # the transposed kernel is the convolution TensorFlow computes
    kernel = torch_kernel.transpose(2, 3, 1, 0)
    np.testing.assert_allclose(conv.conv2d(x, kernel, padding="same"), tf.nn.conv2d(x, kernel, 1, "SAME").numpy(),
                               rtol=1e-4, atol=1e-4)
    # Ambiguous shapes up to 11 rows stay HWIO: a 5x3 kernel from 3 to 3 channels, a 1-D filter
    assert conv.conv2d(x, np.ones((5, 3, 3, 3), np.float32)).shape == (1, 6, 8, 3)
    assert conv.conv2d(x[..., :1], np.ones((15, 1, 1, 1), np.float32), padding="same").shape == (1, 10, 10, 1)


def test_empty_batch_gives_an_empty_output():
    x = np.zeros((0, 6, 5, 2), np.float32)
    kernel = np.ones((3, 3, 2, 4), np.float32)
    for function in (conv.conv2d, conv.conv2d_naive):
        assert function(x, kernel, padding="same", stride=2).shape == (0, 3, 3, 4)
    assert conv.conv2d(x, kernel, block=2, workers=2).shape == (0, 4, 3, 4)
    assert conv.im2col(x, 3).shape == (0, 18)
