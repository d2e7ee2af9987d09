"""Exercise 0: tensor basics (random seeds, views and copies, shapes, indexing, NumPy).

Random numbers: torch.manual_seed(seed) makes the draws that follow repeatable, but it
reseeds the one global generator that everything else draws from too. A
torch.Generator has its own state: seed it and pass generator=... to torch.randn, and
the rest of the program's random numbers are left as they were.

Views and copies: a view shares its tensor's memory (writing into one changes the
other); a copy does not. x.view(shape) only ever makes a view, so it fails when the
memory is not laid out in order (a "non-contiguous" tensor: after permute, transpose or
a strided slice). x.reshape(shape) makes a view when it can and a copy when it must.
x.permute(dims) reorders the axes (the data moves with them); view and reshape keep
the order of the elements and only regroup them, so they cannot move channels around.

Indexing: a boolean tensor with one value per row picks those rows, x[mask].
Stacking: torch.stack(tensors, dim=d) adds a new axis at d.

NumPy: t.numpy() and torch.from_numpy(a) share memory with what they were made from;
torch.tensor(a), np.array(t) and any change of dtype make copies.
"""
import torch


def seeded_normal(seed, shape):
    """The values of torch.manual_seed(seed); torch.randn(shape), without touching the
    global random state."""
    raise NotImplementedError(
        "TODO: make a torch.Generator, seed it with manual_seed(seed), and draw "
        "torch.randn(shape, generator=...)"
    )


def flatten_images(x):
    """(N, C, H, W) -> (N, C*H*W); a view of x (no copy) when x is contiguous."""
    raise NotImplementedError(
        "TODO: keep the first axis and merge the others, in a way that also works when x "
        "is not contiguous"
    )


def channels_last(x):
    """(N, C, H, W) -> (N, H, W, C): pixel [n, h, w] holds the C values of x[n, :, h, w]."""
    raise NotImplementedError("TODO: move the channel axis to the end")


def stack_columns(columns):
    """A list of K 1-D tensors of length N -> an (N, K) tensor, column k = columns[k]."""
    raise NotImplementedError("TODO: stack the tensors along a new axis 1")


def positive_rows(x):
    """The rows of the 2-D tensor x whose sum is greater than 0 (boolean indexing)."""
    raise NotImplementedError("TODO: build a mask with one value per row, then index x with it")


def numpy_view(t):
    """The NumPy array of the CPU tensor t, sharing its memory."""
    raise NotImplementedError("TODO: turn t into a NumPy array without copying it")


def tensor_view(a):
    """The tensor of the NumPy array a, sharing its memory (same dtype, no copy)."""
    raise NotImplementedError("TODO: turn a into a tensor without copying it")
