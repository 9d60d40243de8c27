"""No CORS from the AWS endpoint (the moto server on AWS_PORT).

moto's server wraps every backend app in flask_cors with its defaults: any origin may read any
answer. Locally that hands every web page the developer visits the Orders table (task tokens
included) and the link-signing key. AWS's own endpoints answer no CORS for these services, and no
browser page of the shop needs them. moto's only switch is `MOTO_DISABLE_GLOBAL_CORS`, read once
when `moto.settings` is imported and copied into the server module's namespace; this sets that
copy, which `create_backend_app` reads each time it builds a backend's app (lazily, at its first
request), whatever the environment held when moto was imported.
"""

from __future__ import annotations

from shop.local.patches import Patch


def patches() -> list[Patch]:
    return [Patch("moto.moto_server.werkzeug_app", "DISABLE_GLOBAL_CORS", lambda _moto_setting: True,
                  why="any origin could read the AWS endpoint's answers")]
