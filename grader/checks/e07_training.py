"""e07_training: placeholder."""

from grader import hookimpl


@hookimpl
def grader_exercises():
    return []
