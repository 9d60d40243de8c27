"""An online shop's order workflow on AWS Step Functions: order API, approval callback, emails."""
