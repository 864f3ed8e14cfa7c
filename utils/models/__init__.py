"""The classic ImageNet architectures of the lecture, as Keras functional models, and the small
variants the notebooks train on the offline 32x32 data.

Full size (build them to count and inspect; never trained here):

- `alexnet(two_towers=True, input_shape=(227, 227, 3), classes=1000)`: Krizhevsky et al. 2012,
  grouped convolutions for the two-GPU split; saved from notebooks/09_alexnet.ipynb, where the
  small AlexNet trained there is written too.
- `vgg16(...)`, `vgg19(...)`: Simonyan & Zisserman 2015, configurations D and E.
  Taught in: notebooks/10_vgg.ipynb
- `googlenet(aux_heads=False, ...)`: Szegedy et al. 2015, Table 1.
  Taught in: notebooks/11_googlenet.ipynb
- `resnet50(...)`, `resnext50(...)`: He et al. 2016, Xie et al. 2017.
  Taught in: notebooks/12_resnet.ipynb

`GroupedConv2D`: a grouped convolution as `groups` ordinary ones (fast on a CPU).

Small variants (32x32 inputs, a few hundred thousand parameters): `vgg_small`,
`googlenet_small`, `resnet_small`. Tables of layers, parameters and multiply-adds:
`layer_table`, `count_macs`; `shapes_only()` builds full-size models for counting without
allocating their weights.
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
