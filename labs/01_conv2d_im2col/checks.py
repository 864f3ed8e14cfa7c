"""Checks for Lab 01 (convolution as im2col). References: tf.nn.conv2d,
tf.image.extract_patches and tf.GradientTape; never the lab's own answer."""

import numpy as np
import tensorflow as tf

from utils.labcheck import LOOKS_LIKE, CheckFailed, call, case_rng, compare

# (size, kernel, stride): odd and even totals of padding, strides that do and do not divide
PAD_CASES = [(5, 3, 1), (7, 3, 2), (6, 3, 2), (8, 4, 2), (6, 2, 1), (10, 5, 3), (4, 1, 1),
             (9, 4, 3)]
PAD_HINT = ("'same' keeps ceil(size / stride) outputs; when the total padding is odd, "
            "TensorFlow puts the extra pixel after the input (bottom or right). "
            "'valid' pads nothing.")
# x shape [N, H, W, C], kernel size (k_h, k_w), stride, padding: non-square everywhere so
# that swapping height and width shows
IM2COL_CASES = [((2, 7, 6, 3), (3, 2), 1, "valid"), ((2, 7, 6, 3), (3, 2), 1, "same"),
                ((1, 8, 9, 2), (3, 3), 2, "same"), ((1, 9, 8, 2), (2, 4), 2, "valid"),
                ((3, 5, 5, 1), (1, 1), 1, "same"), ((1, 6, 7, 4), (4, 3), 3, "same"),
                # boundaries: a kernel as large as the input (one output position), a stride
                # larger than the kernel (pixels no window visits)
                ((2, 4, 5, 3), (4, 5), 1, "valid"), ((1, 9, 9, 2), (2, 2), 3, "same")]


def _describe(shape, kernel_size, stride, padding):
    return f"x {list(shape)}, kernel_size {kernel_size}, stride {stride}, padding '{padding}'"


def check_pad_amounts(pad_amounts):
    """pad_amounts(size, kernel_size, stride, padding) -> (before, after), checked by
    padding a random signal with it and comparing a 'VALID' convolution with TensorFlow's."""
    rng = case_rng(1)
    for size, kernel_size, stride in PAD_CASES:
        for padding in ("valid", "same"):
            case = f"size {size}, kernel_size {kernel_size}, stride {stride}, padding '{padding}'"
            result = call("pad_amounts", pad_amounts, size, kernel_size, stride, padding,
                          case=case, numpy_only=True)
            try:
                before, after = (int(v) for v in result)
            except (TypeError, ValueError):
                raise CheckFailed(f"pad_amounts should return two integers (before, after) "
                                  f"for {case}, got {result!r}.") from None
            if before < 0 or after < 0:
                raise CheckFailed(f"pad_amounts returned negative padding ({before}, {after}) "
                                  f"for {case}.", PAD_HINT)
            x = tf.constant(rng.normal(size=(1, size, 1, 1)), tf.float32)
            k = tf.constant(rng.normal(size=(kernel_size, 1, 1, 1)), tf.float32)
            expected = tf.nn.conv2d(x, k, stride, padding.upper())
            padded = tf.pad(x, [[0, 0], [before, after], [0, 0], [0, 0]])
            got = tf.nn.conv2d(padded, k, stride, "VALID")
            if got.shape != expected.shape:
                raise CheckFailed(
                    f"with your padding ({before}, {after}) for {case}, the convolution has "
                    f"{got.shape[1]} outputs; tf.nn.conv2d has {expected.shape[1]}.", PAD_HINT)
            if not np.allclose(got.numpy(), expected.numpy(), atol=1e-5):
                mistake = (f" {LOOKS_LIKE} the odd pixel of padding is put before the input; "
                           f"TensorFlow puts it after." if before == after + 1 else "")
                raise CheckFailed(
                    f"with your padding ({before}, {after}) for {case}, the convolution has the "
                    f"right length ({expected.shape[1]}) but is shifted against tf.nn.conv2d."
                    + mistake, PAD_HINT)
    return f"{2 * len(PAD_CASES)} cases agree with tf.nn.conv2d"


def check_im2col(im2col):
    """im2col(x, kernel_size, stride, padding) -> [N, H', W', k_h * k_w * C], each patch
    flattened in (row, column, channel) order, as tf.image.extract_patches does."""
    rng = case_rng(2)
    for shape, kernel_size, stride, padding in IM2COL_CASES:
        x = rng.normal(size=shape).astype(np.float32)
        case = _describe(shape, kernel_size, stride, padding)
        got = call("im2col", im2col, x.copy(), kernel_size, stride, padding, case=case,
                   numpy_only=True)
        expected = tf.image.extract_patches(
            x, sizes=[1, *kernel_size, 1], strides=[1, stride, stride, 1], rates=[1, 1, 1, 1],
            padding=padding.upper()).numpy()
        blocks = expected.reshape(*expected.shape[:3], *kernel_size, shape[-1])
        compare("im2col(x)", got, expected, case=case, mistakes={
                    "the entries of a patch are in (channel, row, column) order; Keras and "
                    "tf.image.extract_patches flatten a patch row by row, the channel fastest.":
                    lambda: np.moveaxis(blocks, -1, 3).reshape(expected.shape),
                    "the entries of a patch are in (column, row, channel) order: height and "
                    "width are swapped inside the patch.":
                    lambda: np.swapaxes(blocks, 3, 4).reshape(expected.shape)},
                hint="shape [N, H', W', k_h * k_w * C]; inside a patch the channel varies "
                     "fastest, then the column, then the row; pad with pad_amounts first.")
    return f"{len(IM2COL_CASES)} cases agree with tf.image.extract_patches"


def _conv_cases(rng):
    for shape, kernel_size, stride, padding in IM2COL_CASES:
        c_out = 4
        x = rng.normal(size=shape).astype(np.float32)
        kernel = rng.normal(size=(*kernel_size, shape[-1], c_out)).astype(np.float32)
        bias = rng.normal(size=(c_out,)).astype(np.float32)
        yield x, kernel, bias, stride, padding, _describe(shape, kernel_size, stride, padding)


def check_conv2d(conv2d):
    """conv2d(x, kernel, bias, stride, padding) -> [N, H', W', C_out] against tf.nn.conv2d
    (which correlates: the kernel is not flipped)."""
    rng = case_rng(3)
    count = 0
    for x, kernel, bias, stride, padding, case in _conv_cases(rng):
        case += f", kernel {list(kernel.shape)}"
        got = call("conv2d", conv2d, x.copy(), kernel.copy(), bias.copy(), stride, padding,
                   case=case, numpy_only=True)
        expected = tf.nn.conv2d(x, kernel, stride, padding.upper()) + bias
        compare("conv2d(x, kernel, bias)", got, expected, case=case, atol=1e-4, mistakes={
                    "the kernel is flipped (a textbook convolution); CNN layers compute a "
                    "cross-correlation, the kernel used as it is.":
                    lambda: tf.nn.conv2d(x, kernel[::-1, ::-1], stride, padding.upper()) + bias,
                    "the bias is not added.": lambda: expected - bias},
                hint="CNN 'convolution' is cross-correlation (no kernel flip); reshape the "
                     "kernel to [k_h * k_w * C_in, C_out] in the same order as the patch "
                     "entries, multiply, add the bias, reshape to [N, H', W', C_out].")
        count += 1
    return f"{count} cases agree with tf.nn.conv2d"


def check_conv2d_backward(conv2d_backward):
    """conv2d_backward(x, kernel, grad_output, stride, padding) -> (grad_x, grad_kernel)
    against tf.GradientTape on tf.nn.conv2d."""
    rng = case_rng(4)
    count = 0
    for x, kernel, bias, stride, padding, case in _conv_cases(rng):
        x_var, kernel_var = tf.Variable(x), tf.Variable(kernel)
        with tf.GradientTape() as tape:
            output = tf.nn.conv2d(x_var, kernel_var, stride, padding.upper())
            grad_output = rng.normal(size=output.shape).astype(np.float32)
            loss = tf.reduce_sum(output * grad_output)
        grad_x, grad_kernel = tape.gradient(loss, [x_var, kernel_var])
        result = call("conv2d_backward", conv2d_backward, x.copy(), kernel.copy(),
                      grad_output.copy(), stride, padding, case=case, numpy_only=True)
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise CheckFailed(f"conv2d_backward should return (grad_x, grad_kernel) for {case}, "
                              f"got {type(result).__name__}.")
        compare("grad_kernel", result[1], grad_kernel, case=case, atol=1e-3,
                hint="grad_kernel = patches^T @ grad_output (summed over every position "
                     "of every image), reshaped to the kernel's shape.")
        compare("grad_x", result[0], grad_x, case=case, atol=1e-3, mistakes={
                    "where patches overlap, the gradients overwrite each other instead of "
                    "adding up.": lambda: _overwritten_grad_x(x, kernel, grad_output, stride,
                                                              padding)},
                hint="grad_patches = grad_output @ kernel^T; scatter each patch back to "
                     "where it came from, adding where patches overlap, then drop the padding.")
        count += 1
    return f"{count} cases agree with tf.GradientTape"


def _overwritten_grad_x(x, kernel, grad_output, stride, padding):
    """grad_x when each patch's gradient is assigned to the input (last patch wins) rather
    than added: the known mistake of a col2im without accumulation."""
    k_h, k_w = kernel.shape[:2]
    n, height, width, channels = x.shape
    grad_patches = np.asarray(grad_output, np.float64) @ kernel.reshape(-1, kernel.shape[-1]).T
    out_h, out_w = grad_output.shape[1:3]
    if padding == "same":
        pad_h = max((out_h - 1) * stride + k_h - height, 0)
        pad_w = max((out_w - 1) * stride + k_w - width, 0)
    else:
        pad_h = pad_w = 0
    top, left = pad_h // 2, pad_w // 2
    padded = np.zeros((n, height + pad_h, width + pad_w, channels))
    for i in range(out_h):
        for j in range(out_w):
            padded[:, i * stride:i * stride + k_h, j * stride:j * stride + k_w, :] = \
                grad_patches[:, i, j].reshape(n, k_h, k_w, channels)
    return padded[:, top:top + height, left:left + width, :]
