"""e05_two_layer_net: placeholder."""

from grader import hookimpl


@hookimpl
def grader_exercises():
    return []
