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

`conv2d` builds the whole patch matrix by default (the textbook im2col). With `block=b` it
builds and multiplies it b images at a time in a buffer that stays in the CPU's cache, as
production GEMM-based convolutions do; `matmul` and `workers` choose the GEMM and the threads.
"""

from __future__ import annotations

import concurrent.futures
import numbers
import threading

import numpy as np

from utils import validation

__all__ = [
    "conv_output_size",
    "conv_transpose_output_size",
    "same_padding",
    "im2col",
    "conv2d",
    "conv2d_naive",
    "tensorflow_matmul",
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


def _valid_range(size, pad_before, stride, offset, output_size):
    """Output indices r whose input index r * stride + offset - pad_before lies inside [0, size)."""
    first = max(0, -(-(pad_before - offset) // stride))
    stop = min(output_size, (size - 1 + pad_before - offset) // stride + 1)
    return first, max(first, stop)


def _columns(x, kernel_size, stride, pads, output_size, dilation, groups, buffer=None):
    """im2col into a buffer [groups, N * H' * W', k_h * k_w * C_in / groups].

    Whole slabs rather than one window at a time: for each kernel row i, one strided copy moves
    the input for every output pixel whose k_w taps all lie inside the input (a view whose last
    two axes, tap j and channel, are contiguous in NHWC when dilation is 1 and groups is 1);
    the few border columns are copied per tap. Column order within a row is (i, j, c), the order
    of `kernel.reshape(-1, C_out)`. Padding is never materialised: the buffer is zero wherever a
    tap falls outside the input. `buffer`, if given, is a C-contiguous
    [groups, N, H', W', k_h, k_w, C / groups] array that is zero wherever this geometry does
    not write (a fresh `np.zeros`, or one this function filled before for the same geometry).
    """
    n, height, width, channels = x.shape
    (top, _), (left, _) = pads
    k_h, k_w = kernel_size
    (s_h, s_w), (d_h, d_w) = stride, dilation
    out_h, out_w = output_size
    group_channels = channels // groups
    if buffer is None:
        buffer = np.zeros((groups, n, out_h, out_w, k_h, k_w, group_channels), dtype=x.dtype)
    grouped = np.moveaxis(x.reshape(n, height, width, groups, group_channels), 3, 0)  # [groups, N, H, W, Cg]
    g_stride, n_stride, h_stride, w_stride, c_stride = grouped.strides
    tap_ranges = [_valid_range(width, left, s_w, j * d_w, out_w) for j in range(k_w)]
    inner = (max(r[0] for r in tap_ranges), min(r[1] for r in tap_ranges))  # columns with every tap inside
    for i in range(k_h):
        r0, r1 = _valid_range(height, top, s_h, i * d_h, out_h)
        if r1 <= r0:
            continue
        first_row = r0 * s_h + i * d_h - top
        if inner[1] > inner[0]:
            c0, c1 = inner
            start = grouped[:, :, first_row, c0 * s_w - left]  # [groups, N, Cg] at tap j = 0
            window = np.lib.stride_tricks.as_strided(
                start, shape=(groups, n, r1 - r0, c1 - c0, k_w, group_channels),
                strides=(g_stride, n_stride, s_h * h_stride, s_w * w_stride, d_w * w_stride, c_stride),
                writeable=False)
            buffer[:, :, r0:r1, c0:c1, i, :, :] = window
        rows = slice(first_row, (r1 - 1) * s_h + i * d_h - top + 1, s_h)
        for j, (c0, c1) in enumerate(tap_ranges):  # border columns, outside the inner range
            for lo, hi in ((c0, min(c1, inner[0])), (max(c0, inner[1], inner[0]), c1)):
                if hi > lo:
                    cols = slice(lo * s_w + j * d_w - left, (hi - 1) * s_w + j * d_w - left + 1, s_w)
                    buffer[:, :, r0:r1, lo:hi, i, j, :] = grouped[:, :, rows, cols]
    return buffer.reshape(groups, n * out_h * out_w, k_h * k_w * group_channels)


def _validated_input(x):
    return validation.as_array("x", x, ndim=4, dtype_kind="f", layout="[N, H, W, C_in] (NHWC)")


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
    k_h, k_w, group_in, c_out = kernel.shape
    # PyTorch stores kernels [C_out, C_in / groups, k, k]. When k = C_in / groups (3x3 on RGB) such
    # a kernel also fits the HWIO layout, as a C_out x k kernel from k to k channels, and the shape
    # alone cannot tell. One taller than 11 (AlexNet's 11x11 is the course's largest) is taken to be
    # PyTorch's.
    pytorch_like = k_w * groups == channels and group_in == c_out
    ambiguous = pytorch_like and group_in * groups == channels and k_w > 1 and k_h > 11
    if group_in * groups != channels or ambiguous:
        raise ValueError(
            f"kernel: expected the HWIO layout [k_h, k_w, C_in / groups = {channels // groups}, C_out] for x of "
            f"shape {x.shape} (NHWC) and groups={groups}, got kernel shape {kernel.shape}"
            + (f" (as HWIO, a {k_h}x{k_w} kernel)" if ambiguous else "") + "."
            + (" If it is PyTorch's [C_out, C_in, k_h, k_w], use kernel.transpose(2, 3, 1, 0)." if pytorch_like else "")
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


def conv2d(x, kernel, bias=None, stride=1, padding="valid", dilation=1, groups=1, *, block=None, matmul=None,
           workers=1):
    """2-D convolution (cross-correlation, as in every framework) as im2col + one matrix product per group.

    x: [N, H, W, C_in] (NHWC); kernel: [k_h, k_w, C_in / groups, C_out] as in `tf.nn.conv2d`;
    bias: [C_out] or None; stride, dilation: int or (s_h, s_w); padding: "valid", "same"
    (TensorFlow's: H' = ceil(H / s), the odd pixel at the bottom/right) or an int / pair of
    pixels on each side; groups: C_in and C_out split into `groups` independent convolutions
    (group g sees input channels [g C_in/groups, (g+1) C_in/groups) and produces output channels
    [g C_out/groups, (g+1) C_out/groups)).

    How it is computed (the result is the same whichever is chosen):
    block: None (default) builds the whole patch matrix, one row per output pixel of the batch,
        then multiplies once: the textbook im2col. An int b builds it for b images at a time in
        a buffer small enough to stay in the CPU's cache, and multiplies each piece as soon as
        it is built. Each thread keeps its buffers (at most two) for the next call.
    matmul: the function that multiplies a [groups, M, K] patch matrix by [groups, K, C_out / groups]
        weights (2-D operands when groups == 1). Default `np.matmul` (NumPy's BLAS);
        `tensorflow_matmul` hands the product to TensorFlow's GEMM.
    workers: threads that each build and multiply their own blocks, so that one thread's copying
        overlaps another's matrix product (both release Python's GIL). Needs `block`.

    Returns [N, H', W', C_out] with H' = floor((H + 2p - d (k_h - 1) - 1) / s) + 1, in the
    result dtype of x and kernel. Equal to `tf.nn.conv2d` / `keras.layers.Conv2D`.
    """
    x, kernel, bias, stride, padding, dilation, groups = _validated_conv_arguments(
        x, kernel, bias, stride, padding, dilation, groups
    )
    n = x.shape[0]
    workers = validation.as_int("workers", workers, minimum=1)
    if block is None:
        if workers > 1:
            raise ValueError(f"workers: {workers} threads need blocks to share out; pass block (images per block)")
        block = max(n, 1)
    block = validation.as_int("block", block, minimum=1)
    if matmul is None:
        matmul = np.matmul
    elif not callable(matmul):
        raise TypeError(f"matmul: expected a function (a, b) -> a @ b such as np.matmul, got {matmul!r}")
    k_h, k_w, group_in, c_out = kernel.shape
    pads, (out_h, out_w) = _geometry(x.shape, (k_h, k_w), stride, padding, dilation)
    group_out = c_out // groups
    # [k_h, k_w, Cg, groups * Cg_out] -> [groups, k_h * k_w * Cg, Cg_out], 64-byte aligned for any BLAS
    weights = _aligned_copy(kernel.reshape(k_h * k_w * group_in, groups, group_out).transpose(1, 0, 2))
    output = np.empty((n, out_h, out_w, c_out), dtype=x.dtype)
    geometry = (x.shape[1:], x.dtype.str, (k_h, k_w), stride, pads, dilation, groups)

    def convolve(start):
        images = x[start:start + block]
        size = images.shape[0]
        shape = (groups, size, out_h, out_w, k_h, k_w, group_in)
        buffer = np.zeros(shape, x.dtype) if size == n else _scratch_buffer((geometry, size), shape, x.dtype)
        columns = _columns(images, (k_h, k_w), stride, pads, (out_h, out_w), dilation, groups, buffer)
        rows = size * out_h * out_w
        if groups == 1:
            product = _product(matmul, columns[0], weights[0], (rows, c_out))
        else:  # one product per group: [groups, M, Cg_out] -> [M, groups, Cg_out]
            product = _product(matmul, columns, weights, (groups, rows, group_out)).transpose(1, 0, 2)
        output[start:start + size] = product.reshape(size, out_h, out_w, c_out)

    starts = range(0, n, block)
    if workers == 1 or len(starts) == 1:
        for start in starts:
            convolve(start)
    else:
        list(_thread_pool(workers).map(convolve, starts))
    if bias is not None:
        output += bias.astype(output.dtype, copy=False)
    return output


_scratch = threading.local()  # per thread: the block buffers of the latest geometries
_pools: dict[int, concurrent.futures.ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def _scratch_buffer(key, shape, dtype):
    """This thread's zeroed, aligned block buffer for `key` (geometry and block size), kept between calls.

    Reusing it saves allocating and faulting in fresh memory on every call; it stays valid
    because a geometry always writes the same elements (`_columns`). At most two are kept per
    thread: a full block and the last, smaller one.
    """
    buffers = _scratch.__dict__.setdefault("buffers", {})
    if key not in buffers:
        if len(buffers) >= 2:
            buffers.pop(next(iter(buffers)))
        buffers[key] = _aligned_zeros(shape, dtype)
    return buffers[key]


def _thread_pool(workers):
    with _pools_lock:
        if workers not in _pools:
            _pools[workers] = concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="conv2d")
        return _pools[workers]


def _product(matmul, a, b, expected_shape):
    product = np.asarray(matmul(a, b))
    if product.shape != expected_shape:
        raise ValueError(f"matmul: {matmul!r} returned shape {product.shape} for operands {a.shape} and {b.shape}, "
                         f"expected {expected_shape}")
    return product


def _aligned_zeros(shape, dtype, alignment=64):
    """np.zeros(shape, dtype) whose data starts on an `alignment`-byte boundary (as Eigen and oneDNN like)."""
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape)) * dtype.itemsize
    raw = np.zeros(nbytes + alignment, dtype=np.uint8)
    offset = -raw.ctypes.data % alignment
    return raw[offset:offset + nbytes].view(dtype).reshape(shape)


def _aligned_copy(array):
    copy = _aligned_zeros(array.shape, array.dtype)
    copy[...] = array
    return copy


def tensorflow_matmul(a, b):
    """a @ b computed by TensorFlow's `tf.linalg.matmul` (oneDNN's GEMM on x86), returned as NumPy.

    A `matmul` for `conv2d`: the same product as `np.matmul`, computed by the library that
    TensorFlow's own layers use. C-contiguous NumPy operands are handed over without copying
    (DLPack) when they are 64-byte aligned, as `conv2d`'s buffers are, and copied otherwise.
    """
    import tensorflow as tf

    for name, value in (("a", a), ("b", b)):
        if not isinstance(value, np.ndarray) or value.dtype.kind != "f":
            raise TypeError(f"{name}: expected a NumPy float array, got {type(value).__name__}"
                            f"{'' if not isinstance(value, np.ndarray) else ' of dtype ' + str(value.dtype)}")
    if a.ndim < 2 or b.ndim != a.ndim or a.shape[-1] != b.shape[-2] or a.shape[:-2] != b.shape[:-2]:
        raise ValueError(f"a, b: shapes {a.shape} and {b.shape} do not multiply ([..., M, K] @ [..., K, P])")

    def tensor(array):
        # TensorFlow's kernels require 64-byte aligned memory (an unaligned one aborts the process),
        # so only an aligned C-contiguous array is shared; anything else is copied into one.
        if not array.flags.c_contiguous or array.ctypes.data % 64:
            array = _aligned_copy(array)
        return tf.experimental.dlpack.from_dlpack(array.__dlpack__())

    return tf.linalg.matmul(tensor(a), tensor(b)).numpy()


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

