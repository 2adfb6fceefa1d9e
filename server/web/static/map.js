/* The HQ map: the mission's own base maps (imported by an administrator, served by this server:
   nothing is fetched from outside), with reference layers -- place names, sensitive sites, the
   mission area -- on top. Report points are canvas circles coloured by review status;
   hotspot hexagons are coloured by Gi* confidence bin; emerging categories, coverage gaps and
   patrol routes are overlays; a time slider narrows every time-dependent layer at once.
   Colours come from common/colours.py (data-colours), the same as in the PDF map. The legend lists
   only the layers shown, each swatch in the colour its layer is drawn with. */
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || typeof L === "undefined") { return; }
  var T = JSON.parse(el.dataset.i18n);
  var C = JSON.parse(el.dataset.colours);
  var rtl = document.documentElement.dir === "rtl";
  var statusEl = document.getElementById("map-status");
  var slider = document.getElementById("time-slider");
  var windowSel = document.getElementById("window-days");
  var timeLabel = document.getElementById("time-label");

  // Right to left, the controls mirror: zoom and layer toggles swap sides, and the legend sits on
  // the side opposite the toggles so it never covers them.
  var map = L.map(el, { preferCanvas: true, zoomControl: false, attributionControl: false, minZoom: 4, maxZoom: 18 })
    .setView([1.8, 30.4], 9);
  el.leafletMap = map;  // the canvas has no element per shape: tests (and the console) reach shapes through it
  L.control.zoom({ position: rtl ? "topright" : "topleft" }).addTo(map);
  el.leafletMap = map;  // for tests that click a drawn cell (the canvas has no element per shape)
  L.control.attribution({ position: rtl ? "bottomleft" : "bottomright" }).addTo(map);

  var BIN_LABELS = [["3", "hot99"], ["2", "hot95"], ["1", "hot90"], ["-1", "cold90"], ["-2", "cold95"], ["-3", "cold99"]];
  var STATUSES = ["unreviewed", "verified", "needs_information", "rejected"];
  var ORDER = ["reports", "hotspots", "emerging", "gaps", "patrols", "sites", "places", "area"];
  var GAP = C.layers.coverage_gap, SITE = C.layers.sensitive_site, PATROL = C.layers.patrol_route;

  var layers = {};
  ORDER.forEach(function (k) { layers[k] = L.layerGroup(); });
  ["area", "places", "sites", "hotspots", "reports"].forEach(function (k) { layers[k].addTo(map); });
  // Base maps: one radio button each; tiles come only from this server, and only inside each
  // map's bounds and zoom range (beyond its deepest zoom Leaflet enlarges the deepest tiles).
  var baseLayers = {};
  var basemaps = JSON.parse(el.dataset.basemaps || "[]");
  el.dataset.tiles = "0";
  basemaps.forEach(function (b, i) {
    var layer = L.tileLayer(b.url, {
      minNativeZoom: b.minzoom, maxNativeZoom: b.maxzoom, minZoom: 4, maxZoom: 18, crossOrigin: false,
      bounds: L.latLngBounds([[b.bounds[1], b.bounds[0]], [b.bounds[3], b.bounds[2]]]),
      attribution: text(b.attribution)
    });
    layer.on("tileload", function () { el.dataset.tiles = String(parseInt(el.dataset.tiles, 10) + 1); });
    baseLayers[b.title] = layer;
    if (i === 0) { layer.addTo(map); el.dataset.basemap = b.name; }
  });
  if (basemaps.length) { baseLayers[T.nobase] = L.layerGroup(); }
  var overlays = {};
  ORDER.forEach(function (k) { overlays[T[k]] = layers[k]; });
  L.control.layers(basemaps.length ? baseLayers : null, overlays, { collapsed: false, position: rtl ? "topleft" : "topright" }).addTo(map);
  L.control.scale({ position: rtl ? "bottomleft" : "bottomright" }).addTo(map);

  // -- legend: only what is shown ---------------------------------------------------------------
  var legendDiv = null;
  var legend = L.control({ position: rtl ? "bottomright" : "bottomleft" });
  legend.onAdd = function () { legendDiv = L.DomUtil.create("div", "legend"); drawLegend(); return legendDiv; };

  function drawLegend() {
    if (!legendDiv) { return; }
    legendDiv.textContent = "";
    var h = document.createElement("h3"); h.textContent = T.legend; legendDiv.appendChild(h);
    function section(key) {
      var s = document.createElement("div"); s.className = "legend-section"; s.dataset.layer = key;
      var t = document.createElement("h4"); t.textContent = T[key]; s.appendChild(t);
      legendDiv.appendChild(s); return s;
    }
    function row(sec, colour, label, cls, kind) {
      var r = document.createElement("div"); r.className = "legend-row " + cls;
      var sw = document.createElement("span"); sw.className = "swatch swatch-" + (kind || "fill");
      sw.style.backgroundColor = colour; sw.dataset.colour = colour;
      r.appendChild(sw); r.appendChild(document.createTextNode(" " + label)); sec.appendChild(r);
    }
    var shown = 0;
    ORDER.forEach(function (key) {
      if (!map.hasLayer(layers[key])) { return; }
      shown += 1;
      var sec = section(key);
      if (key === "reports") { STATUSES.forEach(function (s) { row(sec, C.statuses[s], T["status_" + s], "legend-status", "dot"); }); }
      else if (key === "hotspots") { BIN_LABELS.forEach(function (b) { row(sec, C.bins[b[0]], T[b[1]], "bin"); }); }
      else if (key === "emerging") { Object.keys(C.emerging).forEach(function (k) { row(sec, C.emerging[k], T[k], "emerging"); }); }
      else if (key === "gaps") { row(sec, GAP, T.gap, "gap", "dashed"); }
      else if (key === "patrols") { row(sec, PATROL, T.patrols, "patrol", "line"); }
      else if (key === "sites") { row(sec, SITE, T.sites, "site", "dot"); }
      else if (key === "places") { row(sec, C.layers.place, T.places, "place", "dot"); }
      else if (key === "area") { row(sec, C.layers.mission_area, T.area, "area", "dashed"); }
    });
    legendDiv.hidden = shown === 0;
  }
  legend.addTo(map);
  map.on("overlayadd overlayremove", function () { drawLegend(); recordColours(); });

  // What each layer is drawn with, for anyone checking the legend against the map (the tests).
  function recordColours() {
    var drawn = {};
    ORDER.forEach(function (key) {
      var set = {};
      (function walk(layer) {
        if (layer.eachLayer) { layer.eachLayer(walk); return; }
        if (layer.options && layer.options.fillColor && layer.options.fill !== false) { set[layer.options.fillColor] = 1; }
        else if (layer.options && layer.options.color) { set[layer.options.color] = 1; }
      }(layers[key]));
      drawn[key] = Object.keys(set);
    });
    el.dataset.drawn = JSON.stringify(drawn);
  }

  function setStatus(message, isError) {
    statusEl.textContent = message;
    statusEl.className = isError ? "error" : "muted";
  }

  function fetchJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) { var e = new Error(body.message || ("HTTP " + r.status)); e.status = r.status; throw e; }
        return body;
      });
    });
  }

  // Leaflet reads tooltip and popup strings as HTML: every string from data (report fields, place
  // names from reference data) goes through text(), so markup in it is shown, never run.
  function text(s) { var d = document.createElement("div"); d.textContent = s == null ? "" : String(s); return d.innerHTML; }
  // Times, counts and codes keep their own left-to-right order inside Arabic text.
  function ltr(s) { return "<bdi dir=\"ltr\">" + text(s) + "</bdi>"; }
  function fill(template, values) { return template.replace(/\{(\w+)\}/g, function (m, k) { return values[k]; }); }

  // The window ends with the day the slider points at (today at its right end) and is `days` days
  // long, both ends included; the server is asked for [start, end of the last day).
  function timeWindow() {
    var days = parseInt(windowSel.value, 10);
    var end = new Date();
    end.setUTCHours(0, 0, 0, 0);
    end.setUTCDate(end.getUTCDate() + 1 - (parseInt(slider.max, 10) - parseInt(slider.value, 10)));
    var start = new Date(end.getTime() - days * 86400000);
    var last = new Date(end.getTime() - 86400000);
    return { start: start.toISOString().slice(0, 19) + "Z", end: end.toISOString().slice(0, 19) + "Z",
             first: start.toISOString().slice(0, 10), last: last.toISOString().slice(0, 10) };
  }
  function showWindow() {
    var w = timeWindow();
    timeLabel.innerHTML = text(T.from) + " " + ltr(w.first) + " " + text(T.until) + " " + ltr(w.last);
    timeLabel.dataset.first = w.first; timeLabel.dataset.last = w.last;
  }

  function query(extra) {
    var w = timeWindow();
    var params = new URLSearchParams({ start: w.start, end: w.end });
    Object.keys(extra || {}).forEach(function (k) { params.set(k, extra[k]); });
    return params.toString();
  }

  function hexStyle(colour) {
    return { color: colour, weight: 1, fillColor: colour, fillOpacity: 0.55, opacity: 0.9 };
  }

  var areaBounds = null;
  function loadReference() {
    return fetchJSON("/map/data/reference.geojson").then(function (fc) {
      fc.features.forEach(function (f) {
        var p = f.properties;
        if (p.kind === "mission_area") {
          var area = L.geoJSON(f, { style: { color: C.layers.mission_area, weight: 2, dashArray: "6 4", fill: false } });
          area.addTo(layers.area);
          areaBounds = area.getBounds();
        } else if (f.geometry.type === "Point") {
          var ll = [f.geometry.coordinates[1], f.geometry.coordinates[0]];
          var isSite = p.kind === "sensitive_site";
          var m = L.circleMarker(ll, isSite
            ? { radius: 6, color: "#000000", fillColor: SITE, fillOpacity: 1, weight: 1.5 }
            : { radius: 3, color: C.layers.place, fillColor: C.layers.place, fillOpacity: 1, weight: 1 });
          m.bindTooltip(text(p.name), { permanent: !isSite, direction: rtl ? "left" : "right", className: isSite ? "site-label" : "place-label" });
          m.addTo(isSite ? layers.sites : layers.places);
        } else {
          L.geoJSON(f, { style: { color: "#666", weight: 1, fill: false } }).bindTooltip(text(p.name)).addTo(layers.area);
        }
      });
    });
  }

  var reportBounds = L.latLngBounds([]);
  function loadReports() {
    return fetchJSON("/map/data/reports.geojson?" + query()).then(function (fc) {
      layers.reports.clearLayers();
      reportBounds = L.latLngBounds([]);
      var markers = fc.features.map(function (f) {
        var p = f.properties;
        var ll = [f.geometry.coordinates[1], f.geometry.coordinates[0]];
        reportBounds.extend(ll);
        var m = L.circleMarker(ll, {
          radius: 5, weight: 1, color: "#222222", fillColor: C.statuses[p.review_status] || C.statuses.unreviewed, fillOpacity: 0.9 });
        m.bindPopup("<strong>" + text(p.title) + "</strong><br>" + ltr(p.event_time) + " · " + ltr(p.contingent) +
                    "<br>" + text(T["status_" + p.review_status] || p.review_status) +
                    "<br><a href=\"/reports/" + encodeURIComponent(p.id) + "\">" + text(T.open) + "</a>");
        return m;
      });
      markers.forEach(function (m) { layers.reports.addLayer(m); });
      el.dataset.reports = String(markers.length);
      return markers.length;
    });
  }

  function loadCells(layer, group, styleOf, popupOf) {
    return fetchJSON("/map/data/hotspots.geojson?" + query({ layer: layer })).then(function (fc) {
      group.clearLayers();
      var shown = 0;
      fc.features.forEach(function (f) {
        var style = styleOf(f.properties);
        if (!style) { return; }
        var shape = L.geoJSON(f, { style: style }).bindPopup(popupOf(f.properties)).addTo(group);
        if (layer === "hotspots" && f.properties.bin > 0) { hotBounds.extend(shape.getBounds()); }
        shown += 1;
      });
      el.dataset[layer === "coverage-gaps" ? "gaps" : layer] = String(shown);
      return shown;
    }).catch(function (err) {
      group.clearLayers();
      el.dataset[layer === "coverage-gaps" ? "gaps" : layer] = "0";
      err.layer = layer === "coverage-gaps" ? "gaps" : layer;
      throw err;
    });
  }

  // Pop-ups in plain words: what the cell means, not the statistic behind it.
  var CONFIDENCE = { 3: 99, 2: 95, 1: 90 };
  function count(p) { return text(T.count) + ": " + ltr(p.count); }
  // HQ and commanders turn a hot spot or a gap into a patrol task in one click (the cell names it).
  function taskLink(kind, p) {
    if (el.dataset.assign !== "1" || !p.h3) { return ""; }
    return "<br><a class=\"make-task\" href=\"/tasks/new?source_kind=" + kind + "&source_ref=" +
      encodeURIComponent(p.h3) + "\">" + text(T.make_task) + "</a>";
  }
  function hotPopup(p) {
    var conf = CONFIDENCE[Math.abs(p.bin)];
    return "<strong>" + text(fill(p.bin > 0 ? T.more : T.fewer, { conf: conf })) + "</strong><br>" + count(p) +
      (p.bin > 0 ? taskLink("hotspot", p) : "");
  }
  function emergingPopup(p) { return "<strong>" + text(T[p.category] || T.other) + "</strong><br>" + count(p); }
  function gapPopup(p) { return "<strong>" + text(T.gap_popup) + "</strong><br>" + count(p) + taskLink("coverage_gap", p); }

  function loadPatrols() {
    return fetchJSON("/map/data/patrols.geojson?" + query()).then(function (fc) {
      layers.patrols.clearLayers();
      L.geoJSON(fc, { style: { color: PATROL, weight: 2, opacity: 0.7 } })
        .eachLayer(function (l) { l.bindPopup(text(l.feature.properties.title) + "<br>" + ltr(l.feature.properties.contingent)); })
        .addTo(layers.patrols);
    });
  }

  var pending = null;
  var fitted = false;
  var hotBounds = L.latLngBounds([]);
  function reload() {
    showWindow();
    delete el.dataset.loaded;
    setStatus(T.loading, false);
    var tooFew = [], failed = [];
    function keep(p, key) {
      return p.catch(function (e) { (e.status === 422 ? tooFew : failed).push(T[e.layer || key]); });
    }
    Promise.all([
      keep(loadReports(), "reports"),
      keep(loadCells("hotspots", layers.hotspots, function (p) {
        return p.bin ? hexStyle(C.bins[String(p.bin)]) : null; }, hotPopup), "hotspots"),
      keep(loadCells("emerging", layers.emerging, function (p) {
        return C.emerging[p.category] ? hexStyle(C.emerging[p.category]) : null; }, emergingPopup), "emerging"),
      keep(loadCells("coverage-gaps", layers.gaps, function () {
        return { color: GAP, weight: 3, dashArray: "5 4", fillOpacity: 0.25, fillColor: GAP }; }, gapPopup), "gaps"),
      keep(loadPatrols(), "patrols")
    ]).then(function () {
      // A window too short or too empty for a statistic is a note, not an error; the server's own
      // wording (field names, time steps) is for the API, not for this page.
      var notes = [];
      if (tooFew.length) { notes.push(fill(T.toofew, { layers: tooFew.join(", ") })); }
      if (failed.length) { notes.push(fill(T.failed, { layers: failed.join(", ") })); }
      setStatus(notes.join(" "), failed.length > 0);
      if (!fitted) {
        // First view: the hot spots, else the reports (the mission area is much larger than
        // where violence clusters); the whole area only when there is nothing to show.
        var target = hotBounds.isValid() ? hotBounds : (reportBounds.isValid() ? reportBounds : areaBounds);
        if (target && target.isValid()) { map.fitBounds(target.pad(0.2), { maxZoom: 11, animate: false }); }
        fitted = true;
      }
      recordColours();
      el.dataset.loaded = "true";
    });
  }

  function schedule() {
    if (pending) { clearTimeout(pending); }
    delete el.dataset.loaded;  // the layers are about to change: no longer "loaded" for this view
    pending = setTimeout(reload, 250);
  }
  slider.addEventListener("input", showWindow);
  slider.addEventListener("change", schedule);
  windowSel.addEventListener("change", schedule);

  showWindow();
  loadReference().catch(function () { setStatus(fill(T.failed, { layers: T.places }), true); }).then(reload);
}());
