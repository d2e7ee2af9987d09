"""e00's misconception mutants (the reference worker only): each takes the submitted
(reference) names and returns small buggy versions of some of them. A student whose
outputs match a mutant's on every check its misconception lists is told that idea.
"""

from __future__ import annotations

import numpy as np
import torch


def global_seed(submitted):
    """The tutorial's way: reproducible, but it reseeds everybody's generator."""
    def seeded_normal(seed, shape):
        torch.manual_seed(seed)
        return torch.randn(shape)
    return {"seeded_normal": seeded_normal}


def generator_not_passed(submitted):
    """A generator seeded, then left out of the draw: the global one is used instead."""
    def seeded_normal(seed, shape):
        torch.Generator().manual_seed(seed)
        return torch.randn(shape)
    return {"seeded_normal": seeded_normal}


def flatten_all_axes(submitted):
    """Every axis flattened, the batch axis too."""
    return {"flatten_images": lambda x: x.reshape(-1)}


def reshape_not_permute(submitted):
    def channels_last(x):
        n, c, h, w = x.shape
        return x.reshape(n, h, w, c)
    return {"channels_last": channels_last}


def transpose_not_permute(submitted):
    return {"channels_last": lambda x: x.transpose(1, 3)}


def stack_wrong_axis(submitted):
    return {"stack_columns": lambda columns: torch.stack(columns)}


def cat_not_stack(submitted):
    return {"stack_columns": lambda columns: torch.cat(columns)}


def reshape_not_transpose(submitted):
    """K rows of N stacked, then regrouped into (N, K) in memory order."""
    def stack_columns(columns):
        return torch.stack(columns).reshape(len(columns[0]), len(columns))
    return {"stack_columns": stack_columns}


def zero_sum_kept(submitted):
    return {"positive_rows": lambda x: x[x.sum(dim=1) >= 0]}


def mask_per_element(submitted):
    return {"positive_rows": lambda x: x[x > 0]}


def numpy_copies(submitted):
    return {"numpy_view": lambda tensor: np.array(tensor)}


def dtype_conversion_copies(submitted):
    return {"tensor_view": lambda array: torch.from_numpy(array).float()}


def tensor_copies(submitted):
    return {"tensor_view": lambda array: torch.tensor(array)}
