"""Model families; importing this package registers every model of the zoo."""

from zoo.models import audio, gorner, lenet, xo  # noqa: F401
