"""e06_dynamic_net: placeholder."""

from grader import hookimpl


@hookimpl
def grader_exercises():
    return []
