"""SES's sandbox, which every new AWS account starts in: mail goes only to verified identities.

moto checks only that the sender is verified. In the sandbox, SES also refuses a message with any
recipient that is not a verified address (or an address of a verified domain, whose subdomains it
covers too), and it authorizes `ses:SendEmail` against every recipient's identity as well as the
sender's (that half is IAM's: see shop/local/iam/actions.py). The mailbox simulator's addresses are accepted in the sandbox.
Production access (`sandbox=False`) lifts the recipient check.
"""

from __future__ import annotations

from functools import wraps
from typing import Any

from shop.local.patches import Patch

SIMULATOR_DOMAIN = "simulator.amazonses.com"


class SesSandbox:
    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled

    @staticmethod
    def verified_identity(backend: Any, address: str) -> str | None:
        """The verified identity `address` sends or receives under: itself, else the nearest verified
        domain it is in, its own or a parent (SES: verifying example.com covers a.example.com and
        a.b.example.com, and their addresses, without identities of their own), or none."""
        from email.utils import parseaddr

        _, bare = parseaddr(address)
        if bare in backend.email_identities:
            return bare
        domain = bare.rpartition("@")[2].lower()
        if domain == SIMULATOR_DOMAIN:
            return bare
        labels = domain.split(".")
        return next((parent for parent in (".".join(labels[i:]) for i in range(max(1, len(labels) - 1)))
                     if parent in backend.email_identities), None)

    def identity_arn(self, address: str) -> str:
        """The identity SES authorizes `address` against: the verified one it belongs to (its
        domain's, when only the domain is verified), else the address itself."""
        from moto.ses.models import ses_backends

        from shop.local.template import ACCOUNT_ID, REGION

        identity = self.verified_identity(ses_backends[ACCOUNT_ID][REGION], address)
        return f"arn:aws:ses:{REGION}:{ACCOUNT_ID}:identity/{identity or address}"

    def patches(self) -> list[Patch]:
        def wrap(send_email: Any) -> Any:
            @wraps(send_email)
            def sandboxed_send_email(backend, source, subject, body, destinations):
                if self.enabled:
                    from moto.ses.exceptions import MessageRejectedError

                    unverified = [address for addresses in destinations.values() for address in addresses
                                  if self.verified_identity(backend, address) is None]
                    if unverified:
                        # SES's own words for it (the SES sandbox documentation).
                        raise MessageRejectedError(
                            "Email address is not verified. The following identities failed the check "
                            f"in region {backend.region_name.upper()}: {', '.join(unverified)}")
                return send_email(backend, source, subject, body, destinations)

            return sandboxed_send_email

        return [Patch("moto.ses.models:SESBackend", "send_email", wrap)]
