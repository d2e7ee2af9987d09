"""e08_checkpoint: placeholder."""

from grader import hookimpl


@hookimpl
def grader_exercises():
    return []
