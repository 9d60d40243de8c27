"""Use cases: what each handler does, with its collaborators passed in (tests pass fakes or moto)."""
