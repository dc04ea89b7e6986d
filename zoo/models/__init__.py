"""Model families; importing this package registers every model of the zoo."""

from zoo.models import gorner, lenet, xo  # noqa: F401
