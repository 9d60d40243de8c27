"""Pure business logic: no boto3, no events, no I/O. Everything here is testable with plain values."""
