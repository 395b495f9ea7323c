// The search box: suggestions from GET /search?q= as an ARIA combobox (arrow keys, Enter, Escape). Choosing a
// suggestion opens its page, or with data-fill="key" puts its kind/slug into the box (the entity fields of query
// forms). Without JavaScript the search form still submits to /search, which answers a page of results.
(function () {
  "use strict";

  function setup(form) {
    var input = form.querySelector("[role=combobox]");
    var list = form.querySelector("[role=listbox]");
    var status = form.querySelector("[role=status]");
    var url = form.getAttribute("data-suggest");
    var fill = form.getAttribute("data-fill") === "key";
    if (!input || !list || !url) return;
    var items = [];
    var active = -1;
    var timer = null;
    var pending = null;

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      var options = list.querySelectorAll("[role=option]");
      options.forEach(function (o, i) { o.setAttribute("aria-selected", i === index ? "true" : "false"); });
      active = index;
      if (index >= 0 && options[index]) {
        input.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function render(results) {
      items = results;
      list.textContent = "";
      results.forEach(function (r, i) {
        var li = document.createElement("li");
        li.id = "suggestion-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        var name = document.createElement("span");
        name.className = "suggestion-label";
        name.textContent = r.label;
        var meta = document.createElement("span");
        meta.className = "suggestion-meta";
        meta.textContent = [r.typeLabel, r.altLabels].filter(Boolean).join(" · ");
        li.appendChild(name);
        li.appendChild(meta);
        li.addEventListener("mousedown", function (event) { event.preventDefault(); go(i); });
        list.appendChild(li);
      });
      var open = results.length > 0;
      list.hidden = !open;
      input.setAttribute("aria-expanded", open ? "true" : "false");
      active = -1;
      status.textContent = results.length
        ? results.length + " suggestion" + (results.length === 1 ? "" : "s") + "; use the arrow keys to choose."
        : "No suggestion.";
    }

    function go(index) {
      var item = items[index];
      if (!item) return;
      if (fill) {
        input.value = item.href && item.href.indexOf("/id/") === 0 ? item.href.slice(4) : item.iri;
        close();
        status.textContent = item.label + " chosen.";
      } else if (item.href) {
        window.location.assign(item.href);
      }
    }

    function suggest() {
      var text = input.value.trim();
      if (text.length < 2) { render([]); close(); status.textContent = ""; return; }
      if (pending) pending.abort();
      pending = new AbortController();
      fetch(url + "?q=" + encodeURIComponent(text), { headers: { Accept: "application/json" }, signal: pending.signal })
        .then(function (response) { return response.ok ? response.json() : { results: [] }; })
        .then(function (body) { if (input.value.trim() === text) render(body.results || []); })
        .catch(function (error) { if (error.name !== "AbortError") close(); });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(suggest, 150);
    });
    input.addEventListener("keydown", function (event) {
      var count = items.length;
      if (event.key === "ArrowDown" && count) {
        event.preventDefault();
        if (list.hidden) { list.hidden = false; input.setAttribute("aria-expanded", "true"); }
        highlight((active + 1) % count);
      } else if (event.key === "ArrowUp" && count) {
        event.preventDefault();
        highlight(active <= 0 ? count - 1 : active - 1);
      } else if (event.key === "Enter" && active >= 0 && !list.hidden) {
        event.preventDefault();
        go(active);
      } else if (event.key === "Escape") {
        close();
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 100); });
  }

  document.querySelectorAll("[data-suggest]").forEach(setup);
})();
