"""The web interface for researchers: pages, their data (counts, search, the network) and their static assets.

:mod:`ioir_kg.web.graph` reads what the pages show from the store with SPARQL; :mod:`ioir_kg.web.pages` turns it
into HTML with the site's jinja2 templates (``web/templates``) and sets the headers every page carries. The front-end
libraries (YASGUI, cytoscape.js) are vendored under ``web/static/vendor`` with their licences; nothing is loaded from
another host.
"""
