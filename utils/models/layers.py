"""A grouped convolution written as `groups` ordinary convolutions on slices of the channels.

Taught in: notebooks/09_alexnet.ipynb
"""

import keras


@keras.saving.register_keras_serializable(package="utils.models")
class GroupedConv2D(keras.layers.Layer):
    """2-D convolution with `groups` groups: the input channels are cut into `groups` equal
    slices, slice g is convolved with its own C_out / groups kernels, and the results are
    concatenated. This is AlexNet's two-GPU split (groups=2): each GPU sees only its half.

    x: [N, H, W, C_in] -> [N, H', W', filters], H' = floor((H + 2p - k) / s) + 1 as for Conv2D.
    Weights: `groups` kernels [k, k, C_in / groups, filters / groups] and biases, i.e.
    k * k * (C_in / groups) * filters + filters parameters, exactly those of
    `keras.layers.Conv2D(filters, kernel_size, groups=groups)`, and the same outputs (tested).
    Why not Conv2D(groups=...)? On the TensorFlow backend Keras compiles grouped convolutions
    with XLA, which trains about 20x slower on a CPU than this split.
    """

    def __init__(self, filters, kernel_size, *, groups=2, strides=1, padding="valid", activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.filters, self.groups, self.kernel_size, self.strides = filters, groups, kernel_size, strides
        self.padding, self.use_bias = padding, use_bias
        self.activation = keras.activations.get(activation)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.convolutions = [
            keras.layers.Conv2D(self.filters // self.groups, self.kernel_size, strides=self.strides,
                                padding=self.padding, use_bias=self.use_bias,
                                kernel_initializer=self.kernel_initializer, name=f"group{index + 1}")
            for index in range(self.groups)
        ]

    def build(self, input_shape):
        for convolution in self.convolutions:
            convolution.build((*input_shape[:-1], input_shape[-1] // self.groups))

    def call(self, inputs):
        slices = keras.ops.split(inputs, self.groups, axis=-1) if self.groups > 1 else [inputs]
        outputs = [convolution(part) for convolution, part in zip(self.convolutions, slices)]
        outputs = keras.ops.concatenate(outputs, axis=-1) if self.groups > 1 else outputs[0]
        return self.activation(outputs)

    def compute_output_shape(self, input_shape):
        shape = self.convolutions[0].compute_output_shape((*input_shape[:-1], input_shape[-1] // self.groups))
        return (*shape[:-1], self.filters)

    def get_config(self):
        config = super().get_config()
        config.update({"filters": self.filters, "kernel_size": self.kernel_size, "groups": self.groups,
                       "strides": self.strides, "padding": self.padding,
                       "activation": keras.activations.serialize(self.activation), "use_bias": self.use_bias,
                       "kernel_initializer": keras.initializers.serialize(self.kernel_initializer)})
        return config
