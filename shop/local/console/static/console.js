// The owner's console: draws the workflow once, re-marks it whenever htmx swaps in a new live
// region, and asks before the two buttons that delete an order.
(function () {
  "use strict";

  function readJson(id) {
    const element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  function markWorkflow() {
    const container = document.getElementById("workflow");
    const marks = readJson("workflow-marks");
    if (container && marks && container.firstChild) {
      WorkflowGraph.mark(container, marks);
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    const container = document.getElementById("workflow");
    const graph = readJson("workflow-graph");
    if (container && graph) {
      if (!window.dagre) {
        // Started without `make run`, which installs the console's npm packages.
        container.textContent = "The workflow graph needs the console's npm packages: " +
          "run `make run` (or `npm ci --omit=dev`) and reload.";
        return;
      }
      WorkflowGraph.draw(container, graph);
      markWorkflow();
    }
    // htmx swaps the live region only when it changed; the graph itself is never redrawn.
    document.body.addEventListener("htmx:afterSettle", markWorkflow);
  });

  document.addEventListener("submit", function (event) {
    const question = event.target.dataset.confirm;
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });
})();
