// Renders Graphviz DOT (stdin) to SVG (stdout) with Graphviz compiled to WebAssembly
// (@hpcc-js/wasm-graphviz, pinned in package.json): no `dot` binary is needed, on any machine.
// Called by shop/infra/architecture.py, which writes the DOT from the synthesized template.
import { Graphviz } from "@hpcc-js/wasm-graphviz";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const graphviz = await Graphviz.load();
process.stdout.write(graphviz.dot(Buffer.concat(chunks).toString("utf8"), "svg"));
