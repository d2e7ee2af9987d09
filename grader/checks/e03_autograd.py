"""e03_autograd: placeholder."""

from grader import hookimpl


@hookimpl
def grader_exercises():
    return []
