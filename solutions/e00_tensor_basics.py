"""Reference: tensor basics (random seeds, views and copies, shapes, indexing, NumPy)."""
import torch


def seeded_normal(seed, shape):
    """torch.manual_seed(seed); torch.randn(shape), from a generator of its own."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=generator)


def flatten_images(x):
    """(N, C, H, W) -> (N, C*H*W): a view when x is contiguous, a copy otherwise."""
    return x.reshape(x.shape[0], -1)


def channels_last(x):
    """(N, C, H, W) -> (N, H, W, C): the axes moved, not the memory reinterpreted."""
    return x.permute(0, 2, 3, 1)


def stack_columns(columns):
    """K tensors of length N -> (N, K), one column each."""
    return torch.stack(columns, dim=1)


def positive_rows(x):
    """The rows of x whose sum is greater than 0."""
    return x[x.sum(dim=1) > 0]


def numpy_view(t):
    """The NumPy array sharing t's memory."""
    return t.numpy()


def tensor_view(a):
    """The tensor sharing a's memory."""
    return torch.from_numpy(a)
