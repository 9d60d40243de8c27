"""The CDK stack and its constructs: one construct per capability, wired in `stack.py`."""
