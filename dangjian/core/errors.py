class DomainError(Exception):
    """An error a user caused, with a Chinese sentence saying what is wrong and how to fix it."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
