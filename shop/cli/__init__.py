"""`shop`: the owner's command line, against the local shop (the default) or a deployed stack.

    shop order place --email ... --name ... --street ... --city ... --county ... --country ...
                     --item PRODUCT_ID:QTY [--item ...]
    shop order show ID | shop order list [--status S] | shop order cancel ID
    shop approvals list | approve ID | reject ID | resend ID
    shop catalog load FILE

Add `--json` for output a script can read, `--aws` (and `--stack`, `--region`) for the deployed
stack; against AWS your own credentials are the authorization. Exit codes are in `EXIT`.
"""

from shop.cli.main import EXIT, main

__all__ = ["EXIT", "main"]
