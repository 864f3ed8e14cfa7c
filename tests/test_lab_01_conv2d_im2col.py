"""Lab 01: each checker rejects plausible wrong answers (built on the lab's solution)."""

import numpy as np
import pytest

from test_lab_framework import (assert_hidden_cases_pass, assert_mistake_named, assert_rejected,
                                assert_shortcut_rejected, solution_namespace)

LAB = "01_conv2d_im2col"


@pytest.fixture(scope="module")
def solution():
    return solution_namespace(LAB)


def test_pad_amounts_rejects(solution):
    right = solution["pad_amounts"]

    def extra_pixel_before(size, kernel_size, stride, padding):
        before, after = right(size, kernel_size, stride, padding)
        return after, before

    def ignores_stride(size, kernel_size, stride, padding):
        total = kernel_size - 1 if padding == "same" else 0
        return total // 2, total - total // 2

    def half_kernel_even_for_valid(size, kernel_size, stride, padding):
        return kernel_size // 2, kernel_size // 2

    assert_rejected(LAB, "pad_amounts", extra_pixel_before, r"shifted against tf.nn.conv2d")
    assert_rejected(LAB, "pad_amounts", ignores_stride, r"padding 'same'")
    assert_rejected(LAB, "pad_amounts", half_kernel_even_for_valid, r"padding 'valid'")


def test_im2col_rejects(solution):
    right = solution["im2col"]
    pad_amounts = solution["pad_amounts"]

    def channel_first_patches(x, kernel_size, stride, padding):
        patches = right(x, kernel_size, stride, padding)
        n, h, w, _ = patches.shape
        k_h, k_w = kernel_size
        return patches.reshape(n, h, w, k_h, k_w, -1).transpose(0, 1, 2, 5, 3, 4).reshape(n, h, w, -1)

    def height_and_width_swapped(x, kernel_size, stride, padding):
        patches = right(x, kernel_size, stride, padding)
        n, h, w, _ = patches.shape
        k_h, k_w = kernel_size
        return patches.reshape(n, h, w, k_h, k_w, -1).transpose(0, 1, 2, 4, 3, 5).reshape(n, h, w, -1)

    def symmetric_padding_off_by_one(x, kernel_size, stride, padding):
        k_h, k_w = kernel_size
        if padding == "same":
            x = np.pad(x, [(0, 0), (k_h // 2, k_h // 2), (k_w // 2, k_w // 2), (0, 0)])
        return right(x, kernel_size, stride, "valid")

    def ignores_stride(x, kernel_size, stride, padding):
        return right(x, kernel_size, 1, padding)

    assert_rejected(LAB, "im2col", channel_first_patches, r"wrong values")
    assert_rejected(LAB, "im2col", height_and_width_swapped, r"wrong values")
    assert_rejected(LAB, "im2col", symmetric_padding_off_by_one, r"wrong shape .* expected")
    assert_rejected(LAB, "im2col", ignores_stride, r"stride 2.*expected \(1, 4, 5, 18\)")
    del pad_amounts


def test_conv2d_rejects(solution):
    right = solution["conv2d"]

    def flipped_kernel(x, kernel, bias, stride, padding):
        return right(x, kernel[::-1, ::-1], bias, stride, padding)

    def forgets_bias(x, kernel, bias, stride, padding):
        return right(x, kernel, np.zeros_like(bias), stride, padding)

    def kernel_rows_in_wrong_order(x, kernel, bias, stride, padding):
        k_h, k_w, c_in, c_out = kernel.shape
        patches = solution["im2col"](x, (k_h, k_w), stride, padding)
        matrix = kernel.transpose(2, 0, 1, 3).reshape(-1, c_out)
        return patches @ matrix + bias

    def transposed_kernel(x, kernel, bias, stride, padding):
        if kernel.shape[0] != kernel.shape[1]:
            kernel = np.ascontiguousarray(kernel).reshape(kernel.shape[1], kernel.shape[0], *kernel.shape[2:])
            kernel = kernel.transpose(1, 0, 2, 3)
        else:
            kernel = kernel.transpose(1, 0, 2, 3)
        return right(x, kernel, bias, stride, padding)

    assert_rejected(LAB, "conv2d", flipped_kernel, r"known mistake: the kernel is flipped")
    assert_rejected(LAB, "conv2d", forgets_bias, r"wrong values")
    assert_rejected(LAB, "conv2d", kernel_rows_in_wrong_order, r"wrong values")
    assert_rejected(LAB, "conv2d", transposed_kernel, r"wrong values")


def test_conv2d_backward_rejects(solution):
    right = solution["conv2d_backward"]

    def overwrites_overlaps(x, kernel, grad_output, stride, padding):
        # col2im with assignment: where windows overlap only the last one survives
        k_h, k_w, c_in, c_out = kernel.shape
        grad_x, grad_kernel = right(x, kernel, grad_output, stride, padding)
        pad = solution["pad_amounts"]
        top, bottom = pad(x.shape[1], k_h, stride, padding)
        left, right_ = pad(x.shape[2], k_w, stride, padding)
        rows = grad_output.reshape(-1, c_out) @ kernel.reshape(-1, c_out).T
        rows = rows.reshape(*grad_output.shape[:3], k_h, k_w, c_in)
        out = np.zeros((x.shape[0], x.shape[1] + top + bottom, x.shape[2] + left + right_, c_in))
        h, w = grad_output.shape[1:3]
        for r in range(k_h):
            for c in range(k_w):
                out[:, r:r + stride * h:stride, c:c + stride * w:stride] = rows[:, :, :, r, c]
        return out[:, top:top + x.shape[1], left:left + x.shape[2]], grad_kernel

    def kernel_gradient_of_first_image_only(x, kernel, grad_output, stride, padding):
        grad_x, _ = right(x, kernel, grad_output, stride, padding)
        _, grad_kernel = right(x[:1], kernel, grad_output[:1], stride, padding)
        return grad_x, grad_kernel

    def swapped_outputs(x, kernel, grad_output, stride, padding):
        grad_x, grad_kernel = right(x, kernel, grad_output, stride, padding)
        return grad_kernel, grad_x

    def mean_instead_of_sum(x, kernel, grad_output, stride, padding):
        grad_x, grad_kernel = right(x, kernel, grad_output, stride, padding)
        return grad_x, grad_kernel / x.shape[0]

    assert_rejected(LAB, "conv2d_backward", overwrites_overlaps, r"grad_x has wrong values")
    assert_rejected(LAB, "conv2d_backward", kernel_gradient_of_first_image_only, r"grad_kernel has wrong values")
    assert_rejected(LAB, "conv2d_backward", swapped_outputs, r"grad_kernel has the wrong shape")
    assert_rejected(LAB, "conv2d_backward", mean_instead_of_sum, r"grad_kernel has wrong values")


# ------------------------------------------------- shortcuts, boundaries and named mistakes

def test_library_shortcuts_are_rejected(solution):
    import tensorflow as tf

    from utils import conv

    def tensorflow_patches(x, kernel_size, stride, padding):
        return tf.image.extract_patches(x, [1, *kernel_size, 1], [1, stride, stride, 1],
                                        [1, 1, 1, 1], padding.upper()).numpy()

    def course_padding(size, kernel_size, stride, padding):
        if padding == "valid":
            return 0, 0
        return conv.same_padding(size, kernel_size, stride)

    def tensorflow_conv(x, kernel, bias, stride, padding):
        return np.asarray(tf.nn.conv2d(x, kernel, stride, padding.upper()) + bias)

    def tape_backward(x, kernel, grad_output, stride, padding):
        x_var, k_var = tf.Variable(x), tf.Variable(kernel)
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.nn.conv2d(x_var, k_var, stride, padding.upper()) * grad_output)
        return [g.numpy() for g in tape.gradient(loss, [x_var, k_var])]

    assert_shortcut_rejected(LAB, "im2col", tensorflow_patches)
    message = assert_shortcut_rejected(LAB, "pad_amounts", course_padding)
    assert "the course's `utils` package in `course_padding`" in message
    assert_shortcut_rejected(LAB, "conv2d", tensorflow_conv)
    assert_shortcut_rejected(LAB, "conv2d_backward", tape_backward)


def test_boundary_geometries_are_visited(solution):
    right = solution["im2col"]

    def misses_the_single_window(x, kernel_size, stride, padding):
        # a window loop `range(0, H - k, stride)`: fine until the kernel is as large as the input
        patches = right(x, kernel_size, stride, padding)
        return patches[:, :-1] if patches.shape[1] == 1 else patches

    def assumes_stride_at_most_kernel(x, kernel_size, stride, padding):
        return right(x, kernel_size, min(stride, min(kernel_size)), padding)

    assert_rejected(LAB, "im2col", misses_the_single_window, r"x \[2, 4, 5, 3\], kernel_size \(4, 5\)")
    assert_rejected(LAB, "im2col", assumes_stride_at_most_kernel, r"kernel_size \(2, 2\), stride 3")


def test_known_mistakes_are_named(solution):
    right = solution["im2col"]

    def channel_first_patches(x, kernel_size, stride, padding):
        patches = right(x, kernel_size, stride, padding)
        n, h, w, _ = patches.shape
        return patches.reshape(n, h, w, *kernel_size, -1).transpose(0, 1, 2, 5, 3, 4).reshape(n, h, w, -1)

    def extra_pixel_before(size, kernel_size, stride, padding):
        before, after = solution["pad_amounts"](size, kernel_size, stride, padding)
        return after, before

    def forgets_bias(x, kernel, bias, stride, padding):
        return solution["conv2d"](x, kernel, np.zeros_like(bias), stride, padding)

    assert_mistake_named(LAB, "im2col", channel_first_patches, r"\(channel, row, column\) order")
    assert_mistake_named(LAB, "pad_amounts", extra_pixel_before, r"odd pixel of padding is put before")
    assert_mistake_named(LAB, "conv2d", forgets_bias, r"bias is not added")


def test_hidden_cases_pass_on_the_solution():
    assert_hidden_cases_pass(LAB)
