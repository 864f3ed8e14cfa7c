"""2-D convolution in NumPy: output-size arithmetic, im2col and convolution as a matrix product.

Taught in: notebooks/01_convolution.ipynb

Layout is NHWC as in Keras and `tf.nn.conv2d`: inputs `[N, H, W, C_in]`, kernels
`[k_h, k_w, C_in / groups, C_out]`, outputs `[N, H', W', C_out]`. Output size per spatial axis
(Dumoulin and Visin, "A guide to convolution arithmetic for deep learning", relationship 15):

    H' = floor((H + 2p - d (k - 1) - 1) / s) + 1

with p the padding on each side, k the kernel size, s the stride and d the dilation.
TensorFlow's "same" padding gives H' = ceil(H / s) and pads
`total = max((H' - 1) s + d (k - 1) + 1 - H, 0)` pixels, `total // 2` at the top/left and the
rest (the odd pixel) at the bottom/right; "valid" pads nothing.
"""

from __future__ import annotations

import numbers

import numpy as np

from utils import validation

__all__ = [
    "conv_output_size",
    "conv_transpose_output_size",
    "same_padding",
    "im2col",
    "conv2d",
    "conv2d_naive",
]

_PADDINGS = ("valid", "same")


def _pair(name, value, *, minimum):
    """An int or a pair of ints (height, width)."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name}: expected an int or a pair (height, width), got {value!r}")
        return tuple(validation.as_int(f"{name}[{i}]", v, minimum=minimum) for i, v in enumerate(value))
    value = validation.as_int(name, value, minimum=minimum)
    return value, value


def _padding_argument(padding):
    if isinstance(padding, str):
        return validation.as_choice("padding", padding.lower(), _PADDINGS)
    if isinstance(padding, bool) or not isinstance(padding, (numbers.Integral, tuple, list)):
        raise TypeError(f"padding: expected 'valid', 'same', an int or a pair of ints, got {padding!r}")
    return _pair("padding", padding, minimum=0)


def same_padding(size, kernel, stride=1, dilation=1) -> tuple[int, int]:
    """TensorFlow's "same" padding along one axis: (before, after), the odd pixel after.

    H' = ceil(H / s); total = max((H' - 1) s + d (k - 1) + 1 - H, 0); before = total // 2.
    """
    size = validation.as_int("size", size, minimum=1)
    kernel = validation.as_int("kernel", kernel, minimum=1)
    stride = validation.as_int("stride", stride, minimum=1)
    dilation = validation.as_int("dilation", dilation, minimum=1)
    output = -(-size // stride)
    total = max((output - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    return total // 2, total - total // 2


def conv_output_size(size, kernel, stride=1, padding=0, dilation=1) -> int:
    """Output length of a convolution along one spatial axis.

    size: input length H; kernel: k; stride: s; dilation: d; padding: p pixels on each side
    (an int), or "valid" (p = 0) or "same" (TensorFlow's, H' = ceil(H / s)).

        H' = floor((H + 2p - d (k - 1) - 1) / s) + 1

    Raises ValueError when the (dilated) kernel does not fit in the padded input.
    """
    size = validation.as_int("size", size, minimum=1)
    kernel = validation.as_int("kernel", kernel, minimum=1)
    stride = validation.as_int("stride", stride, minimum=1)
    dilation = validation.as_int("dilation", dilation, minimum=1)
    if isinstance(padding, str):
        padding = validation.as_choice("padding", padding.lower(), _PADDINGS)
        if padding == "same":
            return -(-size // stride)
        padding = 0
    padding = validation.as_int("padding", padding, minimum=0)
    span = dilation * (kernel - 1) + 1
    if size + 2 * padding < span:
        raise ValueError(
            f"kernel: a kernel spanning {span} pixels (k={kernel}, dilation={dilation}) does not fit "
            f"in an input of {size} pixels padded by {padding} on each side"
        )
    return (size + 2 * padding - span) // stride + 1


def conv_transpose_output_size(size, kernel, stride=1, padding=0, dilation=1, output_padding=0) -> int:
    """Output length of a transposed convolution along one axis (the inverse shape map of a conv).

    With p pixels of padding on each side (an int) and output_padding a (0 <= a < s, and the
    extra rows a convolution's floor threw away), Dumoulin and Visin's relationship 14:

        H' = (H - 1) s - 2p + d (k - 1) + 1 + a

    padding="valid" / "same" follow Keras' `Conv2DTranspose` with output_padding=None:
    "valid" gives H s + max(d (k - 1) + 1 - s, 0), "same" gives H s.
    """
    size = validation.as_int("size", size, minimum=1)
    kernel = validation.as_int("kernel", kernel, minimum=1)
    stride = validation.as_int("stride", stride, minimum=1)
    dilation = validation.as_int("dilation", dilation, minimum=1)
    span = dilation * (kernel - 1) + 1
    if isinstance(padding, str):
        padding = validation.as_choice("padding", padding.lower(), _PADDINGS)
        if padding == "same":
            return size * stride
        return size * stride + max(span - stride, 0)
    padding = validation.as_int("padding", padding, minimum=0)
    output_padding = validation.as_int("output_padding", output_padding, minimum=0, maximum=max(stride - 1, 0))
    result = (size - 1) * stride - 2 * padding + span + output_padding
    if result < 1:
        raise ValueError(f"padding: {padding} pixels on each side leave no output for size {size}")
    return result


def _pad_amounts(shape, kernel_size, stride, padding, dilation):
    """((top, bottom), (left, right)) in pixels for the given padding argument."""
    if padding == "valid":
        return (0, 0), (0, 0)
    if padding == "same":
        return tuple(same_padding(shape[axis], kernel_size[axis], stride[axis], dilation[axis]) for axis in (0, 1))
    return (padding[0], padding[0]), (padding[1], padding[1])


def _geometry(x_shape, kernel_size, stride, padding, dilation):
    """Padding amounts and output size (H', W') for x of shape [N, H, W, C]."""
    pads = _pad_amounts(x_shape[1:3], kernel_size, stride, padding, dilation)
    output = []
    for axis in (0, 1):
        size = x_shape[1 + axis] + sum(pads[axis])
        span = dilation[axis] * (kernel_size[axis] - 1) + 1
        if size < span:
            raise ValueError(
                f"kernel: a {kernel_size[0]}x{kernel_size[1]} kernel with dilation {dilation} spans "
                f"{span} pixels, more than the padded input's {size} (x has shape {tuple(x_shape)})"
            )
        output.append((size - span) // stride[axis] + 1)
    return pads, tuple(output)


def _columns(x, kernel_size, stride, pads, output_size, dilation, groups):
    """im2col into a buffer [groups, N * H' * W', k_h * k_w * C_in / groups].

    One strided copy per kernel offset (i, j): the patch matrix is filled k_h * k_w times with
    whole slabs [N, H', W', C] of the (padded) input, which keeps every copy contiguous in C.
    Column order within a row is (i, j, c), the order of `kernel.reshape(-1, C_out)`.
    """
    n, _, _, channels = x.shape
    (top, bottom), (left, right) = pads
    if top or bottom or left or right:
        x = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    k_h, k_w = kernel_size
    (s_h, s_w), (d_h, d_w) = stride, dilation
    out_h, out_w = output_size
    group_channels = channels // groups
    buffer = np.empty((groups, n, out_h, out_w, k_h, k_w, group_channels), dtype=x.dtype)
    grouped = x.reshape(x.shape[:3] + (groups, group_channels))
    for i in range(k_h):
        rows = slice(i * d_h, i * d_h + s_h * (out_h - 1) + 1, s_h)
        for j in range(k_w):
            cols = slice(j * d_w, j * d_w + s_w * (out_w - 1) + 1, s_w)
            # [N, H', W', groups, Cg] -> [groups, N, H', W', Cg]
            buffer[:, :, :, :, i, j, :] = np.moveaxis(grouped[:, rows, cols], 3, 0)
    return buffer.reshape(groups, n * out_h * out_w, k_h * k_w * group_channels)


def _validated_input(x):
    return validation.as_array("x", x, ndim=4, dtype_kind="f", layout="[N, H, W, C_in] (NHWC)", min_size=1)


def im2col(x, kernel_size, stride=1, padding="valid", dilation=1):
    """The patch matrix of a convolution ("image to columns").

    x: [N, H, W, C] floats (NHWC); kernel_size: k or (k_h, k_w); stride, dilation: int or pair;
    padding: "valid", "same" (TensorFlow's) or an int / pair of pixels on each side.
    Returns [N * H' * W', k_h * k_w * C]: one row per output position (row-major over N, H', W'),
    columns in (i, j, c) order, so that

        im2col(x, (k_h, k_w)) @ kernel.reshape(k_h * k_w * C, C_out)

    is the convolution, reshaped to [N, H', W', C_out]. H' as in `conv_output_size`.
    """
    x = _validated_input(x)
    kernel_size = _pair("kernel_size", kernel_size, minimum=1)
    stride = _pair("stride", stride, minimum=1)
    dilation = _pair("dilation", dilation, minimum=1)
    padding = _padding_argument(padding)
    pads, output_size = _geometry(x.shape, kernel_size, stride, padding, dilation)
    return _columns(x, kernel_size, stride, pads, output_size, dilation, 1)[0]


def _validated_conv_arguments(x, kernel, bias, stride, padding, dilation, groups):
    x = _validated_input(x)
    kernel = validation.as_array("kernel", kernel, ndim=4, dtype_kind="f", layout="[k_h, k_w, C_in / groups, C_out]",
                                 min_size=1)
    groups = validation.as_int("groups", groups, minimum=1)
    channels = x.shape[-1]
    if channels % groups:
        raise ValueError(f"groups: expected a divisor of the {channels} input channels of x {x.shape}, got {groups}")
    if kernel.shape[2] * groups != channels:
        raise ValueError(
            f"kernel: expected shape [k_h, k_w, C_in / groups = {channels // groups}, C_out] for x of shape "
            f"{x.shape} (NHWC) and groups={groups}, got kernel shape {kernel.shape}"
        )
    if kernel.shape[3] % groups:
        raise ValueError(
            f"kernel: expected C_out (last axis of kernel shape {kernel.shape}) divisible by groups={groups}"
        )
    if bias is not None:
        bias = validation.as_array("bias", bias, ndim=1, dtype_kind="f", layout="[C_out]")
        if bias.shape[0] != kernel.shape[3]:
            raise ValueError(
                f"bias: expected shape ({kernel.shape[3]},) to match kernel shape {kernel.shape}, got {bias.shape}"
            )
    stride = _pair("stride", stride, minimum=1)
    dilation = _pair("dilation", dilation, minimum=1)
    padding = _padding_argument(padding)
    dtype = np.result_type(x.dtype, kernel.dtype)
    return x.astype(dtype, copy=False), kernel.astype(dtype, copy=False), bias, stride, padding, dilation, groups


def conv2d(x, kernel, bias=None, stride=1, padding="valid", dilation=1, groups=1):
    """2-D convolution (cross-correlation, as in every framework) as im2col + one matrix product per group.

    x: [N, H, W, C_in] (NHWC); kernel: [k_h, k_w, C_in / groups, C_out] as in `tf.nn.conv2d`;
    bias: [C_out] or None; stride, dilation: int or (s_h, s_w); padding: "valid", "same"
    (TensorFlow's: H' = ceil(H / s), the odd pixel at the bottom/right) or an int / pair of
    pixels on each side; groups: C_in and C_out split into `groups` independent convolutions
    (group g sees input channels [g C_in/groups, (g+1) C_in/groups) and produces output channels
    [g C_out/groups, (g+1) C_out/groups)).

    Returns [N, H', W', C_out] with H' = floor((H + 2p - d (k_h - 1) - 1) / s) + 1, in the
    result dtype of x and kernel. Equal to `tf.nn.conv2d` / `keras.layers.Conv2D`.
    """
    x, kernel, bias, stride, padding, dilation, groups = _validated_conv_arguments(
        x, kernel, bias, stride, padding, dilation, groups
    )
    k_h, k_w, group_in, c_out = kernel.shape
    pads, (out_h, out_w) = _geometry(x.shape, (k_h, k_w), stride, padding, dilation)
    columns = _columns(x, (k_h, k_w), stride, pads, (out_h, out_w), dilation, groups)
    group_out = c_out // groups
    # [k_h, k_w, Cg, groups * Cg_out] -> [groups, k_h * k_w * Cg, Cg_out]
    weights = kernel.reshape(k_h * k_w * group_in, groups, group_out).transpose(1, 0, 2)
    if groups == 1:
        output = columns[0] @ weights[0]
    else:
        output = np.matmul(columns, weights)  # one product per group: [groups, M, Cg_out]
        output = output.transpose(1, 0, 2).reshape(-1, c_out)
    if bias is not None:
        output += bias.astype(output.dtype, copy=False)
    return output.reshape(x.shape[0], out_h, out_w, c_out)


def conv2d_naive(x, kernel, bias=None, stride=1, padding="valid", dilation=1, groups=1):
    """The same convolution with explicit loops over positions and output channels (slow; for teaching).

    Same arguments, shapes and result as `conv2d`: for every output pixel and output channel,
    the dot product of the (dilated) input window with that channel's kernel.
    """
    x, kernel, bias, stride, padding, dilation, groups = _validated_conv_arguments(
        x, kernel, bias, stride, padding, dilation, groups
    )
    k_h, k_w, group_in, c_out = kernel.shape
    ((top, bottom), (left, right)), (out_h, out_w) = _geometry(x.shape, (k_h, k_w), stride, padding, dilation)
    padded = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    group_out = c_out // groups
    output = np.zeros((x.shape[0], out_h, out_w, c_out), dtype=x.dtype)
    for row in range(out_h):
        for col in range(out_w):
            top_left = (row * stride[0], col * stride[1])
            window = padded[:, top_left[0]: top_left[0] + dilation[0] * (k_h - 1) + 1: dilation[0],
                            top_left[1]: top_left[1] + dilation[1] * (k_w - 1) + 1: dilation[1], :]
            for channel in range(c_out):
                group = channel // group_out
                patch = window[..., group * group_in:(group + 1) * group_in]
                output[:, row, col, channel] = np.sum(patch * kernel[..., channel], axis=(1, 2, 3))
    if bias is not None:
        output += bias.astype(output.dtype, copy=False)
    return output

