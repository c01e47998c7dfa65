from .pyramid_pooling import PyramidPoolingModule

__all__ = ['PyramidPoolingModule']
