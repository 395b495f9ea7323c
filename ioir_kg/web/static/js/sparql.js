// The SPARQL editor: YASGUI (vendored, see /static/VENDORED.md) against this server's endpoint only.
// Nothing leaves the server: the class and property autocompleters (which ask lov.linkeddata.es) are off, prefixes
// come from the bundled list, and entity IRIs in results link to this server's pages.
(function () {
  "use strict";
  var host = document.getElementById("yasgui");
  if (!host || !window.Yasgui) return; // the plain form stays
  var config = JSON.parse(document.getElementById(host.getAttribute("data-config-id")).textContent);
  var Yasgui = window.Yasgui;
  var LOCAL_COMPLETERS = ["prefixes", "variables"];
  var EXAMPLES_FLAG = "ioir-kg-sparql-examples-v1";

  Yasgui.Yasqe.defaults.autocompleters = LOCAL_COMPLETERS.slice();
  if (Yasgui.defaults.yasqe) Yasgui.defaults.yasqe.autocompleters = LOCAL_COMPLETERS.slice();
  Yasgui.Yasqe.defaults.value = config.starter;
  if (Yasgui.defaults.yasqe) Yasgui.defaults.yasqe.value = config.starter;

  var yasgui = new Yasgui(host, {
    requestConfig: {
      endpoint: config.endpoint,
      method: "POST",
      acceptHeaderSelect: "application/sparql-results+json,*/*;q=0.9",
      acceptHeaderGraph: "text/turtle,*/*;q=0.9",
    },
    copyEndpointOnNewTab: true,
    endpointCatalogueOptions: { getData: function () { return [{ endpoint: config.endpoint }]; } },
    persistenceId: "ioir-kg-sparql",
    autoAddOnInit: false,
    populateFromUrl: true,
    yasqe: { editorHeight: "400px", resizeable: true },
    yasr: { defaultPlugin: "table", pluginOrder: ["table", "chart", "response"] },
  });

  var seeded = false;
  try { seeded = window.localStorage.getItem(EXAMPLES_FLAG) === "1"; } catch (e) { seeded = false; }
  var hasTabs = Object.keys(yasgui._tabs || {}).length > 0;
  if (!seeded || !hasTabs) {
    config.tabs.forEach(function (tab, i) {
      yasgui.addTab(!hasTabs && i === 0, { name: tab.name, yasqe: { value: tab.query } });
    });
    try { window.localStorage.setItem(EXAMPLES_FLAG, "1"); } catch (e) { /* private mode */ }
  }

  // Entity IRIs of this graph open this server's pages, in the same window.
  var idBase = config.idBase;
  function localLinks(root) {
    root.querySelectorAll("a[href]").forEach(function (a) {
      var href = a.getAttribute("href");
      if (idBase && href.indexOf(idBase) === 0) {
        a.setAttribute("href", "/id/" + href.slice(idBase.length));
        a.removeAttribute("target");
      }
    });
  }
  new MutationObserver(function () { localLinks(host); }).observe(host, { childList: true, subtree: true });

  document.getElementById("plain-editor").hidden = true;
  window.ioirYasgui = yasgui; // for the browser tests and the curious
})();
