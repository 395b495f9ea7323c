// A YASR plugin drawing SELECT results with a numeric column as a horizontal bar chart (SVG, no library, nothing
// fetched). The bars are labelled by the first text column (a ...Label column when there is one); each numeric
// column is offered in a select. The same numbers stay available in the Table view.
(function () {
  "use strict";
  if (!window.Yasgui || !window.Yasgui.Yasr) return;
  var SVG = "http://www.w3.org/2000/svg";
  var NUMERIC = /#(integer|decimal|double|float|long|int|short|byte|nonNegativeInteger|positiveInteger|unsignedInt|unsignedLong)$/;
  var MAX_BARS = 60;

  function numericColumns(vars, bindings) {
    return vars.filter(function (v) {
      var seen = 0;
      var ok = bindings.every(function (b) {
        var t = b[v];
        if (!t) return true;
        seen += 1;
        return t.type === "literal" || t.type === "typed-literal"
          ? (t.datatype && NUMERIC.test(t.datatype)) || /^-?\d+(\.\d+)?$/.test(t.value)
          : false;
      });
      return ok && seen > 0;
    });
  }

  function labelColumn(vars, numeric) {
    var labels = vars.filter(function (v) { return /Label$/.test(v) && numeric.indexOf(v) < 0; });
    if (labels.length) return labels[0];
    var others = vars.filter(function (v) { return numeric.indexOf(v) < 0; });
    return others.length ? others[0] : null;
  }

  function shortLabel(term) {
    if (!term) return "";
    var value = term.value;
    if (term.type === "uri") {
      var cut = Math.max(value.lastIndexOf("/"), value.lastIndexOf("#"));
      return cut >= 0 ? value.slice(cut + 1) : value;
    }
    return value;
  }

  function el(name, attrs, text) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function Chart(yasr) {
    this.yasr = yasr;
    this.label = "Chart";
    this.priority = 5;
    this.persistentConfig = {};
  }

  Chart.prototype.canHandleResults = function () {
    var results = this.yasr.results;
    if (!results || results.getError() || !results.getBindings) return false;
    var bindings = results.getBindings();
    var vars = results.getVariables();
    return !!bindings && bindings.length > 0 && numericColumns(vars, bindings).length > 0;
  };

  Chart.prototype.getIcon = function () {
    var svg = el("svg", { viewBox: "0 0 16 16", width: "14", height: "14", "aria-hidden": "true" });
    [[1, 9, 3, 6], [6, 4, 3, 11], [11, 7, 3, 8]].forEach(function (r) {
      svg.appendChild(el("rect", { x: r[0], y: r[1], width: r[2], height: r[3], fill: "currentColor" }));
    });
    var wrap = document.createElement("div");
    wrap.appendChild(svg);
    return wrap;
  };

  Chart.prototype.draw = function (persistentConfig) {
    var results = this.yasr.results;
    var vars = results.getVariables();
    var bindings = results.getBindings();
    var numeric = numericColumns(vars, bindings);
    var config = persistentConfig || this.persistentConfig || {};
    var valueVar = numeric.indexOf(config.column) >= 0 ? config.column : numeric[0];
    var labelVar = labelColumn(vars, numeric);
    var self = this;

    var box = document.createElement("div");
    box.className = "ioir-chart";
    if (numeric.length > 1) {
      var label = document.createElement("label");
      label.textContent = "Value ";
      var select = document.createElement("select");
      numeric.forEach(function (v) {
        var option = document.createElement("option");
        option.value = v;
        option.textContent = v;
        option.selected = v === valueVar;
        select.appendChild(option);
      });
      select.addEventListener("change", function () {
        self.persistentConfig = { column: select.value };
        self.yasr.resultsEl.textContent = "";
        self.draw(self.persistentConfig);
      });
      label.appendChild(select);
      box.appendChild(label);
    }

    var rows = bindings.slice(0, MAX_BARS).map(function (b, i) {
      var name = labelVar ? shortLabel(b[labelVar]) : "row " + (i + 1);
      var value = b[valueVar] ? parseFloat(b[valueVar].value) : 0;
      return { name: name || "(none)", value: isNaN(value) ? 0 : value };
    });
    var max = rows.reduce(function (m, r) { return Math.max(m, r.value); }, 0) || 1;
    var barHeight = 22;
    var labelWidth = 260;
    var width = 760;
    var height = rows.length * (barHeight + 6) + 10;
    var svg = el("svg", {
      viewBox: "0 0 " + width + " " + height,
      width: "100%",
      role: "img",
      "aria-label": "Bar chart of " + valueVar + (labelVar ? " by " + labelVar : ""),
      class: "ioir-chart-svg",
    });
    rows.forEach(function (r, i) {
      var y = 5 + i * (barHeight + 6);
      var w = Math.max(1, ((width - labelWidth - 60) * r.value) / max);
      var g = el("g", {});
      g.appendChild(el("title", {}, r.name + ": " + r.value));
      var name = r.name.length > 40 ? r.name.slice(0, 38) + "…" : r.name;
      g.appendChild(el("text", { x: labelWidth - 8, y: y + barHeight * 0.7, "text-anchor": "end", class: "ioir-chart-label" }, name));
      g.appendChild(el("rect", { x: labelWidth, y: y, width: w, height: barHeight, rx: 3, class: "ioir-chart-bar" }));
      g.appendChild(el("text", { x: labelWidth + w + 6, y: y + barHeight * 0.7, class: "ioir-chart-value" }, String(r.value)));
      svg.appendChild(g);
    });
    box.appendChild(svg);
    if (bindings.length > MAX_BARS) {
      var note = document.createElement("p");
      note.textContent = "The first " + MAX_BARS + " of " + bindings.length + " rows are drawn.";
      box.appendChild(note);
    }
    this.yasr.resultsEl.appendChild(box);
  };

  window.Yasgui.Yasr.registerPlugin("chart", Chart);
})();
