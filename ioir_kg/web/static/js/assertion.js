// The assertion form: the guided form writes Turtle; Check posts it to /validate, Submit to /assertions with the
// contributor's bearer token; the report (or the problem) appears inline, in the words of the validator.
(function () {
  "use strict";
  var form = document.getElementById("assertion-form");
  if (!form) return;
  var report = document.getElementById("report");
  var turtle = document.getElementById("turtle");
  var field = function (id) { return document.getElementById(id); };
  var PREFIXES = [
    "@prefix ioir: <https://w3id.org/ioir/ontology#> .",
    "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .",
    "@prefix dcterms: <http://purl.org/dc/terms/> .",
    "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .",
  ].join("\n");

  // -- the guided form ---------------------------------------------------------------------------------------------
  function kind() { return field("g-kind").value; }

  function showKind() {
    var k = kind();
    form.querySelectorAll("[data-kind]").forEach(function (el) { el.hidden = el.getAttribute("data-kind") !== k; });
    form.querySelectorAll("[data-kind-label]").forEach(function (el) { el.hidden = el.getAttribute("data-kind-label") !== k; });
  }

  function slugify(text) {
    return text.toLowerCase().normalize("NFKD").replace(/[\u0300-\u036f]/g, "")
      .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 60).replace(/-+$/, "");
  }

  function literal(text) {
    return '"' + text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n").replace(/\r/g, "\\r") + '"';
  }

  function iri(value) { return "<" + value.replace(/[<>"{}|^`\\\s]/g, "") + ">"; }

  function dateLiteral(value) {
    var v = value.trim();
    if (/^\d{4}$/.test(v)) return literal(v) + "^^xsd:gYear";
    if (/^\d{4}-\d{2}$/.test(v)) return literal(v) + "^^xsd:gYearMonth";
    if (/^\d{4}-\d{2}-\d{2}$/.test(v)) return literal(v) + "^^xsd:date";
    return null;
  }

  function writeTurtle() {
    var k = kind();
    var label = field("g-label").value.trim();
    var slug = field("g-slug").value.trim() || slugify(label) || "new-" + k;
    var a = field("g-a").value;
    var b = field("g-b").value;
    var lines = [];
    if (k === "instrument") {
      lines.push(iri("instrument/" + slug) + " a ioir:" + field("g-type").value + " ;");
      lines.push("    skos:prefLabel " + literal(label || slug) + "@en ;");
      var parties = [a, b].filter(Boolean).map(iri);
      if (parties.length) lines.push("    ioir:party " + parties.join(" , ") + " ;");
      var date = dateLiteral(field("g-date").value);
      if (date) lines.push("    dcterms:date " + date + " ;");
    } else {
      lines.push(iri("dependency/" + slug) + " a ioir:ResourceDependency ;");
      lines.push("    skos:prefLabel " + literal(label || slug) + "@en ;");
      if (a) lines.push("    ioir:dependent " + iri(a) + " ;");
      if (b) lines.push("    ioir:provider " + iri(b) + " ;");
      if (field("g-resource").value) lines.push("    ioir:resourceType " + iri(field("g-resource").value) + " ;");
      if (field("g-level").value) lines.push("    ioir:dependencyLevel " + iri(field("g-level").value) + " ;");
      if (field("g-theatre").value) lines.push("    ioir:theatre " + iri(field("g-theatre").value) + " ;");
    }
    var last = lines.length - 1;
    lines[last] = lines[last].replace(/ ;$/, " .");
    turtle.value = PREFIXES + "\n\n" + lines.join("\n") + "\n";
    turtle.focus();
  }

  // -- the report --------------------------------------------------------------------------------------------------
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function findings(results) {
    var list = el("ol", "findings");
    results.forEach(function (r) {
      var li = el("li", "finding severity-" + String(r.severity || "Violation").toLowerCase());
      li.appendChild(el("strong", "", r.explanation || r.message || r.detail || "Problem"));
      var where = [r.rule ? "rule " + r.rule : null, r.severity, r.focusLabel || r.focus, r.pathLabel || r.path,
        r.valueLabel || r.value].filter(Boolean).join(" · ");
      if (where) li.appendChild(el("span", "where", where));
      if (r.message && r.explanation && r.message !== r.explanation) li.appendChild(el("span", "rule-text", r.message));
      list.appendChild(li);
    });
    return list;
  }

  function showReport(body, heading) {
    report.textContent = "";
    var ok = !!body.conforms;
    var verdict = el("p", "verdict " + (ok ? "ok" : "bad"));
    verdict.appendChild(el("strong", "", heading || (ok ? "The triples conform." : "The triples do not conform.")));
    if (body.summary) verdict.appendChild(document.createTextNode(" " + body.summary.replace(/^(does not conform|conforms): /, "")));
    report.appendChild(verdict);
    if (body.results && body.results.length) report.appendChild(findings(body.results));
  }

  function showProblem(status, body) {
    report.textContent = "";
    var verdict = el("p", "verdict bad");
    verdict.appendChild(el("strong", "", (body && body.title) || "Error " + status));
    if (body && body.detail) verdict.appendChild(document.createTextNode(" " + body.detail));
    report.appendChild(verdict);
    var errors = (body && body.errors) || [];
    var explained = errors.filter(function (e) { return e.explanation || e.message; });
    if (explained.length) report.appendChild(findings(explained));
  }

  function showAccepted(body, location) {
    report.textContent = "";
    var verdict = el("p", "verdict ok");
    verdict.appendChild(el("strong", "", "Accepted."));
    verdict.appendChild(document.createTextNode(" " + (body.triples || "The") + " triples were stored with their provenance. "));
    var a = el("a", "", "See the stored assertion");
    a.href = location || body.location;
    verdict.appendChild(a);
    report.appendChild(verdict);
    if (body.report && body.report.results && body.report.results.length) report.appendChild(findings(body.report.results));
  }

  function busy(on, text) {
    form.querySelectorAll("button").forEach(function (b) { if (b.id !== "submit" || !b.hasAttribute("data-off")) b.disabled = on; });
    if (on) { report.textContent = ""; report.appendChild(el("p", "muted", text)); }
  }

  function metadataQuery() {
    var params = new URLSearchParams();
    ["source", "quote", "locator", "comment"].forEach(function (name) {
      var value = field(name).value.trim();
      if (value) params.set(name, value);
    });
    var query = params.toString();
    return query ? "?" + query : "";
  }

  function send(url, headers, onSuccess) {
    return fetch(url + metadataQuery(), {
      method: "POST",
      headers: Object.assign({ "Content-Type": "text/turtle", Accept: "application/json" }, headers),
      body: turtle.value,
    }).then(function (response) {
      return response.text().then(function (text) {
        var body = null;
        try { body = text ? JSON.parse(text) : null; } catch (e) { body = { title: "Error " + response.status, detail: text }; }
        if (response.ok) onSuccess(body, response);
        else showProblem(response.status, body);
      });
    }).catch(function (error) {
      showProblem(0, { title: "The server could not be reached", detail: error.message });
    });
  }

  function check() {
    busy(true, "Checking…");
    send(form.getAttribute("data-validate"), {}, function (body) { showReport(body); })
      .finally(function () { busy(false); report.focus(); });
  }

  function submit() {
    var token = field("token").value.trim();
    if (!token) {
      showProblem(401, { title: "A token is needed to submit.", detail: "Enter your contributor token, or Check without one." });
      field("token").focus();
      return;
    }
    busy(true, "Submitting…");
    send(form.getAttribute("data-submit"), { Authorization: "Bearer " + token }, function (body, response) {
      showAccepted(body, response.headers.get("Location"));
    }).finally(function () { busy(false); });
  }

  var submitButton = field("submit");
  if (submitButton.disabled) submitButton.setAttribute("data-off", "");
  report.setAttribute("tabindex", "-1");
  field("g-kind").addEventListener("change", showKind);
  field("g-write").addEventListener("click", writeTurtle);
  field("check").addEventListener("click", check);
  submitButton.addEventListener("click", submit);
  showKind();
})();
