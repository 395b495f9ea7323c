// The network view: cytoscape.js (vendored) draws /network/data; the filter form updates it in place.
// The page works without JavaScript too: the form reloads the page and the table lists the same relations.
(function () {
  "use strict";
  var container = document.getElementById("cy");
  if (!container || !window.cytoscape) return;
  var focus = container.getAttribute("data-focus") || null;
  var embedded = document.body.classList.contains("embed");
  var target = embedded ? "_top" : null;
  var LEVEL_COLOURS = { "level-macro": "#c94f00", "level-meso": "#0068a6", "level-micro": "#00866a" };
  var KIND_COLOURS = {
    instrument: "#b37700", liaison: "#b0508f", mandate: "#6a3d9a", launch: "#444444", unit: "#9a9a9a",
  };
  var NODE_COLOURS = {
    io: "#1f4e79", state: "#2e7d32", body: "#5b8db8", mission: "#b35900", ngo: "#6d6d6d", other: "#8c8c8c",
  };
  var NODE_SHAPES = {
    io: "ellipse", state: "round-rectangle", body: "ellipse", mission: "diamond", ngo: "hexagon", other: "ellipse",
  };
  var NODE_SIZES = { io: 38, state: 26, body: 18, mission: 24, ngo: 20, other: 18 };
  var LABEL_SIZES = { io: 13, state: 11, body: 9, mission: 9, ngo: 9, other: 9 };

  var summary = document.getElementById("network-summary");
  var selection = document.getElementById("selection");
  var tableBody = document.getElementById("relations-body");
  var finder = document.getElementById("find-node");
  var form = document.getElementById("network-filters");
  var nodesById = {};
  var near = {};
  var cy = null;

  function edgeColour(data) {
    if (data.kind === "dependency") return LEVEL_COLOURS[data.level] || "#7f7f7f";
    return KIND_COLOURS[data.kind] || "#7f7f7f";
  }

  function elements(body) {
    nodesById = {};
    var nodes = body.nodes.map(function (n) {
      nodesById[n.id] = n;
      return { data: Object.assign({}, n, { focus: n.id === focus ? 1 : 0 }) };
    });
    near = {};
    var edges = body.edges.map(function (e) {
      if (e.source === focus) near[e.target] = true;
      if (e.target === focus) near[e.source] = true;
      return { data: Object.assign({}, e, { colour: edgeColour(e) }) };
    });
    return nodes.concat(edges);
  }

  var style = [
    {
      selector: "node",
      style: {
        label: "data(short)",
        "font-size": function (n) { return LABEL_SIZES[n.data("kind")] || 9; },
        "min-zoomed-font-size": function (n) { return focus || LABEL_SIZES[n.data("kind")] > 10 ? 0 : 10; },
        "font-family": "system-ui, sans-serif",
        color: "#1b1f24",
        "text-valign": "bottom",
        "text-margin-y": 3,
        "text-outline-color": "#ffffff",
        "text-outline-width": 2,
        "background-color": function (n) { return NODE_COLOURS[n.data("kind")] || "#8c8c8c"; },
        shape: function (n) { return NODE_SHAPES[n.data("kind")] || "ellipse"; },
        width: function (n) { return NODE_SIZES[n.data("kind")] || 18; },
        height: function (n) { return NODE_SIZES[n.data("kind")] || 18; },
        "border-width": 1,
        "border-color": "#ffffff",
      },
    },
    { selector: "node[focus = 1]", style: { "border-width": 4, "border-color": "#ffbf47", "font-weight": "bold", "font-size": 12 } },
    {
      selector: "edge",
      style: {
        width: 2,
        "line-color": "data(colour)",
        "target-arrow-color": "data(colour)",
        "curve-style": "bezier",
        "control-point-step-size": 12,
        "arrow-scale": 0.8,
        opacity: 0.85,
      },
    },
    { selector: "edge[kind = 'dependency'], edge[kind = 'liaison'], edge[kind = 'mandate'], edge[kind = 'launch'], edge[kind = 'unit']",
      style: { "target-arrow-shape": "triangle" } },
    { selector: "edge[kind = 'liaison']", style: { "line-style": "dashed" } },
    { selector: "edge[kind = 'mandate']", style: { "line-style": "dashed", "line-dash-pattern": [2, 3] } },
    { selector: "edge[kind = 'launch']", style: { "line-style": "dotted", width: 1.5 } },
    { selector: "edge[kind = 'unit']", style: { "line-style": "dotted", width: 1, opacity: 0.7 } },
    { selector: ":selected", style: { "border-color": "#ffbf47", "border-width": 4, "line-color": "#ffbf47", "target-arrow-color": "#ffbf47", width: 4 } },
  ];

  function layout(count) {
    if (focus && count <= 12) {
      return {
        name: "concentric",
        animate: false,
        minNodeSpacing: 24,
        concentric: function (n) { return n.id() === focus ? 2 : 1; },
        levelWidth: function () { return 1; },
        padding: 30,
      };
    }
    return {
      name: "cose",
      animate: false,
      randomize: true,
      padding: 20,
      nodeRepulsion: function () { return 120000; },
      idealEdgeLength: function () { return 90; },
      nodeOverlap: 12,
      gravity: 0.4,
      componentSpacing: 60,
      numIter: 1500,
    };
  }

  function link(text, href) {
    var a = document.createElement("a");
    a.textContent = text;
    a.href = href;
    if (target) a.target = target;
    return a;
  }

  function paragraph() {
    var p = document.createElement("p");
    Array.prototype.forEach.call(arguments, function (part) {
      p.appendChild(typeof part === "string" ? document.createTextNode(part) : part);
    });
    return p;
  }

  function showNode(node) {
    if (!selection) return;
    var d = node.data();
    selection.textContent = "";
    var title = d.href ? link(d.label, d.href) : document.createTextNode(d.label);
    var strong = document.createElement("strong");
    strong.appendChild(title);
    selection.appendChild(paragraph(strong, " — " + d.kind + ", " + node.connectedEdges().length + " relations shown"));
    if (d.href && d.href.indexOf("/id/") === 0) {
      selection.appendChild(paragraph(link("Show its own network", "/network?focus=" + encodeURIComponent(d.href.slice(4)))));
    }
  }

  function showEdge(edge) {
    if (!selection) return;
    var d = edge.data();
    selection.textContent = "";
    var strong = document.createElement("strong");
    strong.appendChild(d.href ? link(d.label, d.href) : document.createTextNode(d.label));
    var from = nodesById[d.source] ? nodesById[d.source].label : d.source;
    var to = nodesById[d.target] ? nodesById[d.target].label : d.target;
    selection.appendChild(paragraph(strong, " (" + d.kind + ")"));
    selection.appendChild(paragraph(from + " → " + to));
    var details = [d.typeLabel, d.levelLabel, (d.resourceTypes || []).join(", "), (d.theatres || []).join(", "), d.period]
      .filter(Boolean).join("; ");
    if (details) selection.appendChild(paragraph(details));
  }

  function cell(node) {
    var td = document.createElement("td");
    td.appendChild(node);
    return td;
  }

  function nodeLink(id) {
    var n = nodesById[id];
    if (!n) return document.createTextNode(id);
    return n.href ? link(n.label, n.href) : document.createTextNode(n.label);
  }

  function renderTable(body) {
    if (!tableBody) return;
    tableBody.textContent = "";
    body.edges.forEach(function (e) {
      var tr = document.createElement("tr");
      tr.appendChild(cell(nodeLink(e.source)));
      var rel = document.createElement("span");
      rel.appendChild(e.href ? link(e.label, e.href) : document.createTextNode(e.label));
      var kind = document.createElement("span");
      kind.className = "muted";
      kind.textContent = " (" + e.kind + ")";
      rel.appendChild(kind);
      tr.appendChild(cell(rel));
      tr.appendChild(cell(nodeLink(e.target)));
      var details = [e.typeLabel, e.levelLabel, (e.resourceTypes || []).join(", "), (e.theatres || []).join(", "), e.period]
        .filter(Boolean).join("; ");
      tr.appendChild(cell(document.createTextNode(details)));
      tableBody.appendChild(tr);
    });
  }

  function renderSummary(body) {
    document.querySelectorAll("[data-count=edges]").forEach(function (s) { s.textContent = String(body.edges.length); });
    document.querySelectorAll("[data-count=nodes]").forEach(function (s) { s.textContent = String(body.nodes.length); });
    document.querySelectorAll("[data-count=others]").forEach(function (s) { s.textContent = String(Math.max(body.nodes.length - 1, 0)); });
    var filters = summary ? summary.querySelector("[data-filters]") : null;
    if (filters) filters.textContent = body.filters && body.filters.length ? " — " + body.filters.join("; ") : "";
  }

  function renderFinder(body) {
    if (!finder) return;
    var first = finder.options[0];
    finder.textContent = "";
    finder.appendChild(first);
    body.nodes.slice().sort(function (a, b) { return a.label.localeCompare(b.label); }).forEach(function (n) {
      var option = document.createElement("option");
      option.value = n.id;
      option.textContent = n.label + (n.short !== n.label ? " (" + n.short + ")" : "");
      finder.appendChild(option);
    });
    finder.disabled = body.nodes.length === 0;
  }

  function render(body) {
    if (!cy) {
      cy = window.cytoscape({
        container: container,
        elements: elements(body),
        style: style,
        layout: layout(body.nodes.length),
        minZoom: 0.2,
        maxZoom: 3,
      });
      cy.on("tap", "node", function (event) { showNode(event.target); });
      cy.on("tap", "edge", function (event) { showEdge(event.target); });
      window.ioirNetwork = cy; // for the browser tests and the curious
    } else {
      cy.elements().remove();
      cy.add(elements(body));
      cy.layout(layout(body.nodes.length)).run();
    }
    container.setAttribute("data-rendered", String(body.nodes.length));
    renderSummary(body);
    renderTable(body);
    renderFinder(body);
  }

  function load(url) {
    return fetch(url, { headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(render)
      .catch(function (error) {
        if (summary) summary.textContent = "The network could not be loaded (" + error.message + ").";
      });
  }

  if (finder) {
    finder.addEventListener("change", function () {
      if (!cy || !finder.value) return;
      var node = cy.getElementById(finder.value);
      if (node.empty()) return;
      cy.elements().unselect();
      node.select();
      cy.animate({ center: { eles: node }, zoom: Math.max(cy.zoom(), 1.2) }, { duration: 200 });
      showNode(node);
    });
  }

  if (form) {
    var refresh = function () {
      var params = new URLSearchParams(new FormData(form));
      Array.from(params.keys()).forEach(function (key) { if (!params.get(key)) params.delete(key); });
      var query = params.toString();
      window.history.replaceState(null, "", "/network" + (query ? "?" + query : ""));
      load("/network/data" + (query ? "?" + query : ""));
    };
    form.addEventListener("change", refresh);
    form.addEventListener("submit", function (event) { event.preventDefault(); refresh(); });
  }

  // On a phone the graph comes first: the filters start folded.
  var filterBox = document.getElementById("filter-box");
  if (filterBox && window.matchMedia("(max-width: 48rem)").matches) filterBox.open = false;

  load(container.getAttribute("data-src"));
})();
