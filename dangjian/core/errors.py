class DomainError(Exception):
    """An error a user caused, with a Chinese sentence saying what is wrong and how to fix it."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class ConflictError(DomainError):
    """Someone else changed the row since the user loaded it: nothing was saved."""


def actor(user):
    """The user for an audit event or a ``created_by`` field: None for the anonymous."""
    return user if getattr(user, "is_authenticated", False) else None
