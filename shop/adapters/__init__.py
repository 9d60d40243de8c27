"""The only modules that talk to AWS. Each wraps one service behind a small, typed interface."""
