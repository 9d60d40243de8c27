"""Which Node.js runs jsii (the CDK's engine under Python) and the CDK CLI.

aws-cdk-lib supports Node 22 and 24; jsii calls older ones end-of-life and prints a banner on
every run. When the machine's node is older, the Makefile installs a pinned Node LTS from the npm
registry into `.node/` (see NODE_LTS there) and puts it first on PATH for its recipes. This
module does the same for what runs outside make: `python app.py`, the CDK CLI's call of it, and
pytest. It must run before the first `import aws_cdk`, which starts jsii's node process.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The Makefile's PROJECT_NODE_BIN: where `npm install --prefix .node node@<version>` links `node`.
PROJECT_NODE_BIN = ROOT / ".node" / "node_modules" / ".bin"


def use_project_node(environ: MutableMapping[str, str] = os.environ) -> bool:
    """Put the project's own Node first on PATH if make installed one; True when it is in use.

    jsii starts `node` from PATH, and so does everything it spawns."""
    if not (PROJECT_NODE_BIN / "node").is_file():
        return False
    entries = environ.get("PATH", "").split(os.pathsep)
    if entries[:1] != [str(PROJECT_NODE_BIN)]:
        environ["PATH"] = os.pathsep.join([str(PROJECT_NODE_BIN), *(e for e in entries if e)])
    return True
