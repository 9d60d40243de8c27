/* Draws a Step Functions state machine as SVG (laid out by dagre) and marks
 * how far one execution got. Plain script: needs the global `dagre`
 * (dagre.min.js) loaded first; exposes the global `WorkflowGraph`. */
(function () {
  "use strict";
  const SVG_NS = "http://www.w3.org/2000/svg";
  const MARKS = ["passed", "current", "failed"];
  const FONT_SIZE = 13;
  const NODE_HEIGHT = 34;
  const TERMINAL_HEIGHT = 24;
  const QUIET_LABEL = "States.ALL"; // every Task has one: drawn faint, unlabelled
  let drawCount = 0; // keeps marker ids unique when several graphs share a page

  function el(tag, attrs, parent) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (parent) parent.appendChild(node);
    return node;
  }

  // Canvas measuring works even while the container is hidden (unlike getComputedTextLength).
  function textMeasurer(container) {
    const ctx = document.createElement("canvas").getContext("2d");
    const family = getComputedStyle(container).fontFamily || "sans-serif";
    ctx.font = `${FONT_SIZE}px ${family}`;
    return (text) => Math.ceil(ctx.measureText(text).width) || text.length * 7.5;
  }

  function isQuiet(edge) {
    return edge.kind === "catch" && edge.label === QUIET_LABEL;
  }

  function hasLabel(edge) {
    return edge.kind === "catch" && !isQuiet(edge) && Boolean(edge.label);
  }

  // Arrowheads are separate <marker>s, so each edge style names its own.
  function arrowKind(path) {
    const cl = path.classList;
    if (cl.contains("wf-edge-taken")) return "taken";
    if (cl.contains("wf-edge-quiet")) return "quiet";
    return cl.contains("wf-edge-catch") ? "catch" : "normal";
  }

  // Smooth B-spline through dagre's bend points (same maths as d3.curveBasis).
  function basisPath(pts) {
    const f = (n) => Math.round(n * 10) / 10;
    if (pts.length < 3) return "M" + pts.map((p) => `${f(p.x)},${f(p.y)}`).join("L");
    let d = `M${f(pts[0].x)},${f(pts[0].y)}`;
    d += `L${f((5 * pts[0].x + pts[1].x) / 6)},${f((5 * pts[0].y + pts[1].y) / 6)}`;
    for (let i = 2; i < pts.length; i++) {
      const a = pts[i - 2], b = pts[i - 1], c = pts[i];
      d += `C${f((2 * a.x + b.x) / 3)},${f((2 * a.y + b.y) / 3)} ` +
           `${f((a.x + 2 * b.x) / 3)},${f((a.y + 2 * b.y) / 3)} ` +
           `${f((a.x + 4 * b.x + c.x) / 6)},${f((a.y + 4 * b.y + c.y) / 6)}`;
    }
    const last = pts[pts.length - 1];
    return d + `L${f(last.x)},${f(last.y)}`;
  }

  function layout(graph, measure) {
    const g = new dagre.graphlib.Graph({ multigraph: true });
    // align "UR" (one Brandes-Köpf pass instead of the averaged four) keeps the
    // happy path in a straight column; the averaged default zig-zags it.
    g.setGraph({ rankdir: "TB", align: "UR", nodesep: 28, ranksep: 30, edgesep: 12 });
    g.setDefaultEdgeLabel(() => ({}));
    for (const n of graph.nodes) {
      const terminal = n.type === "Start" || n.type === "End";
      g.setNode(n.id, {
        width: measure(n.label || n.id) + (terminal ? 22 : 30),
        height: terminal ? TERMINAL_HEIGHT : NODE_HEIGHT,
      });
    }
    graph.edges.forEach((e, i) => {
      if (!g.hasNode(e.source) || !g.hasNode(e.target)) return; // dagre would invent a sizeless node
      const labelled = hasLabel(e);
      g.setEdge(e.source, e.target, {
        // Heavy normal flow keeps consecutive states on consecutive ranks; catch edges stretch instead.
        weight: e.kind === "catch" ? 1 : 4,
        minlen: 1,
        width: labelled ? measure(e.label) * 0.9 + 8 : 0,
        height: labelled ? 16 : 0,
        labelpos: "c",
      }, "e" + i);
    });
    dagre.layout(g);
    return g;
  }

  // dagre's graph width ignores edge bend points, which can stick out past the
  // nodes (long catch edges routed round the outside), so measure everything.
  function bounds(g) {
    const xs = [], ys = [];
    for (const id of g.nodes()) {
      const n = g.node(id);
      xs.push(n.x - n.width / 2, n.x + n.width / 2);
      ys.push(n.y - n.height / 2, n.y + n.height / 2);
    }
    for (const e of g.edges()) {
      const laid = g.edge(e);
      for (const p of laid.points) { xs.push(p.x); ys.push(p.y); }
      if (laid.width) { xs.push(laid.x - laid.width / 2, laid.x + laid.width / 2); ys.push(laid.y); }
    }
    const pad = 8;
    const x = Math.floor(Math.min(...xs) - pad), y = Math.floor(Math.min(...ys) - pad);
    return { x, y, width: Math.ceil(Math.max(...xs) + pad) - x, height: Math.ceil(Math.max(...ys) + pad) - y };
  }

  function addMarkers(svg, prefix) {
    const defs = el("defs", {}, svg);
    for (const kind of ["normal", "catch", "quiet", "taken"]) {
      const m = el("marker", {
        id: `${prefix}-${kind}`, viewBox: "0 0 10 10", refX: 9, refY: 5,
        markerWidth: kind === "quiet" ? 5 : 7, markerHeight: kind === "quiet" ? 5 : 7,
        orient: "auto-start-reverse", markerUnits: "userSpaceOnUse",
      }, defs);
      el("path", { d: "M0,0L10,5L0,10z", class: `wf-arrow wf-arrow-${kind}` }, m);
    }
  }

  function draw(container, graph) {
    const measure = textMeasurer(container);
    const g = layout(graph, measure);
    const view = bounds(g);
    const prefix = `wf-arrow-${++drawCount}`;
    const svg = el("svg", {
      class: "wf-graph", role: "img", "aria-label": "Workflow graph",
      viewBox: `${view.x} ${view.y} ${view.width} ${view.height}`,
      width: "100%", "data-arrow": prefix,
    });
    svg.style.maxWidth = `${view.width}px`; // scale down to fit, never blow up past natural size
    addMarkers(svg, prefix);

    // Edges first so node boxes sit on top of line ends.
    const edgeLayer = el("g", { class: "wf-edges" }, svg);
    const labelLayer = el("g", { class: "wf-edge-labels" }, svg);
    graph.edges.forEach((e, i) => {
      const laid = g.edge(e.source, e.target, "e" + i);
      if (!laid) return;
      const quiet = isQuiet(e);
      const path = el("path", {
        d: basisPath(laid.points),
        class: `wf-edge wf-edge-${e.kind}` + (quiet ? " wf-edge-quiet" : ""),
        "data-source": e.source, "data-target": e.target,
      }, edgeLayer);
      path.setAttribute("marker-end", `url(#${prefix}-${arrowKind(path)})`);
      if (hasLabel(e)) {
        const t = el("text", { class: "wf-edge-label", x: laid.x, y: laid.y, "text-anchor": "middle", "dominant-baseline": "central" }, labelLayer);
        t.textContent = e.label;
      }
    });

    const nodeLayer = el("g", { class: "wf-nodes" }, svg);
    for (const n of graph.nodes) {
      const box = g.node(n.id);
      const terminal = n.type === "Start" || n.type === "End";
      const grp = el("g", {
        class: `wf-node wf-type-${n.type}` + (terminal ? " wf-terminal" : ""),
        "data-state": n.id, transform: `translate(${box.x},${box.y})`,
      }, nodeLayer);
      el("rect", {
        class: "wf-box", x: -box.width / 2, y: -box.height / 2, width: box.width, height: box.height,
        rx: terminal ? box.height / 2 : 7,
      }, grp);
      const label = el("text", { class: "wf-label", "text-anchor": "middle", "dominant-baseline": "central" }, grp);
      label.textContent = n.label || n.id;
      el("title", {}, grp).textContent = `${n.id} (${n.type})`;
    }

    container.replaceChildren(svg);
    return svg;
  }

  // Only touches classes/attributes: safe to call every second, never re-lays out.
  function mark(container, marks) {
    const svg = container.querySelector("svg.wf-graph");
    if (!svg) return;
    marks = marks || {};
    for (const grp of svg.querySelectorAll(".wf-node")) {
      const m = MARKS.includes(marks[grp.dataset.state]) ? marks[grp.dataset.state] : null;
      for (const name of MARKS) grp.classList.toggle(`wf-${name}`, name === m);
      if (m) grp.setAttribute("data-mark", m);
      else grp.removeAttribute("data-mark");
    }
    const prefix = svg.getAttribute("data-arrow");
    for (const path of svg.querySelectorAll(".wf-edge")) {
      const taken = marks[path.dataset.source] === "passed" && MARKS.includes(marks[path.dataset.target]);
      path.classList.toggle("wf-edge-taken", taken);
      path.setAttribute("marker-end", `url(#${prefix}-${arrowKind(path)})`);
    }
  }

  window.WorkflowGraph = { draw, mark };
})();
