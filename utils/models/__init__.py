"""The lecture's architectures as Keras functional models, one module each (its docstring
gives the paper and the notebook that teaches it): `alexnet`, `vgg16`, `vgg19`, `googlenet`,
`resnet50` and `resnext50` at full size, built to count and inspect and never trained here;
`vgg_small`, `googlenet_small` and `resnet_small`, the 32x32 variants the notebooks train;
`GroupedConv2D`; and `layer_table`, `count_macs` and `shapes_only` (full-size models built
for counting, without allocating their weights).
"""

from utils.models.alexnet import alexnet
from utils.models.googlenet import INCEPTION_FILTERS, googlenet, googlenet_small, inception_module
from utils.models.layers import GroupedConv2D
from utils.models.resnet import basic_block, bottleneck_block, resnet50, resnet_small, resnext50
from utils.models.summary import count_macs, layer_table, shapes_only
from utils.models.vgg import vgg16, vgg19, vgg_small

__all__ = [
    "INCEPTION_FILTERS", "GroupedConv2D", "alexnet", "basic_block", "bottleneck_block", "count_macs", "googlenet",
    "googlenet_small", "inception_module", "layer_table", "resnet50", "resnet_small", "resnext50",
    "shapes_only", "vgg16", "vgg19", "vgg_small",
]
