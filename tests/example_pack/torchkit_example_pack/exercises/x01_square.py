"""Example pack, exercise 1: square every element of an array.

square(x) returns an array of x's shape whose entries are the squares of x's.
"""


def square(x):
    """Return x squared, element by element."""
    raise NotImplementedError("TODO: return x * x")
