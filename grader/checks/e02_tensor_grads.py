"""e02_tensor_grads: placeholder."""

from grader import hookimpl


@hookimpl
def grader_exercises():
    return []
