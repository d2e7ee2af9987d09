"""e04_my_relu: placeholder."""

from grader import hookimpl


@hookimpl
def grader_exercises():
    return []
