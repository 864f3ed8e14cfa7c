"""Convolution arithmetic: TensorFlow's "same" padding and a convolution's output size.

Taught in: notebooks/01_convolution.ipynb, which writes im2col and the convolution itself (they
stay there: lab 01 asks for them). Reused by notebooks/04_pooling.ipynb.

Per spatial axis, with p pixels of padding on each side, kernel size k, stride s and dilation d
(Dumoulin and Visin, "A guide to convolution arithmetic for deep learning", relationship 15):

    H' = floor((H + 2p - d (k - 1) - 1) / s) + 1

TensorFlow's "same" padding gives H' = ceil(H / s) and pads
`total = max((H' - 1) s + d (k - 1) + 1 - H, 0)` pixels, `total // 2` at the top/left and the
rest (the odd pixel) at the bottom/right; "valid" pads nothing.
"""

__all__ = ["same_padding", "conv_output_size"]


# ---- saved from notebooks/01_convolution.ipynb by tools/saved_cells.py: edit the notebook, not this block ----

def same_padding(size, kernel, stride=1, dilation=1):
    """TensorFlow's "same" padding along one axis: (before, after) in pixels, the odd pixel after.

    H' = ceil(H / s); total = max((H' - 1) s + d (k - 1) + 1 - H, 0); before = total // 2.
    """
    output = -(-size // stride)
    total = max((output - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    return total // 2, total - total // 2


def conv_output_size(size, kernel, stride=1, padding=0, dilation=1):
    """Output length of a convolution along one spatial axis: H' = floor((H + 2p - d (k - 1) - 1) / s) + 1.

    padding: p pixels on each side, "valid" (p = 0) or "same" (TensorFlow's: H' = ceil(H / s)).
    """
    if padding == "same":
        return -(-size // stride)
    padding = 0 if padding == "valid" else padding
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1

# ---- end of saved cells ----
