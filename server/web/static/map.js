/* The HQ map: the mission's own base maps (imported by an administrator, served by this server:
   nothing is fetched from outside), with reference layers -- place names, sensitive sites, the
   mission area -- on top. Report points are canvas circles;
   hotspot hexagons are coloured by Gi* confidence bin; emerging categories, coverage gaps and
   patrol routes are overlays; a time slider narrows every time-dependent layer at once. */
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || typeof L === "undefined") { return; }
  var T = JSON.parse(el.dataset.i18n);
  var rtl = document.documentElement.dir === "rtl";
  var statusEl = document.getElementById("map-status");
  var slider = document.getElementById("time-slider");
  var windowSel = document.getElementById("window-days");
  var timeLabel = document.getElementById("time-label");

  var map = L.map(el, { preferCanvas: true, zoomControl: true, minZoom: 4, maxZoom: 18 }).setView([1.8, 30.4], 9);

  var BIN_COLOURS = { "3": "#d62f27", "2": "#ed7551", "1": "#fab984", "-1": "#c0ccbe", "-2": "#849eba", "-3": "#4575b5" };
  var BIN_LABELS = [["3", "hot99"], ["2", "hot95"], ["1", "hot90"], ["-1", "cold90"], ["-2", "cold95"], ["-3", "cold99"]];
  var EMERGING_COLOURS = {
    new_hot: "#7b3294", consecutive_hot: "#c2a5cf", intensifying_hot: "#d7301f", persistent_hot: "#fc8d59",
    diminishing_hot: "#fdcc8a", sporadic_hot: "#fee8c8", oscillating_hot: "#ff7f00", historical_hot: "#a6761d"
  };
  var STATUS_COLOURS = { verified: "#1a9850", rejected: "#777777", needs_information: "#fdae61", unreviewed: "#2c7fb8" };

  var layers = {
    reports: L.layerGroup(),
    hotspots: L.layerGroup(), emerging: L.layerGroup(), gaps: L.layerGroup(), patrols: L.layerGroup(),
    places: L.layerGroup(), sites: L.layerGroup(), area: L.layerGroup()
  };
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
  ["reports", "hotspots", "emerging", "gaps", "patrols", "places", "sites", "area"].forEach(function (k) {
    overlays[T[k]] = layers[k];
  });
  L.control.layers(basemaps.length ? baseLayers : null, overlays, { collapsed: false, position: rtl ? "topleft" : "topright" }).addTo(map);
  L.control.scale({ position: rtl ? "bottomright" : "bottomleft" }).addTo(map);

  var legend = L.control({ position: rtl ? "bottomleft" : "bottomright" });
  legend.onAdd = function () {
    var div = L.DomUtil.create("div", "legend");
    var h = document.createElement("h3"); h.textContent = T.legend; div.appendChild(h);
    function row(colour, text, cls) {
      var r = document.createElement("div"); r.className = "legend-row " + (cls || "");
      var sw = document.createElement("span"); sw.className = "swatch"; sw.style.background = colour;
      r.appendChild(sw); r.appendChild(document.createTextNode(" " + text)); div.appendChild(r);
    }
    BIN_LABELS.forEach(function (b) { row(BIN_COLOURS[b[0]], T[b[1]], "bin"); });
    Object.keys(EMERGING_COLOURS).forEach(function (k) { row(EMERGING_COLOURS[k], T[k], "emerging"); });
    row("transparent; border: 2px dashed #6a00a8", T.gap, "gap");
    row("#333", T.patrols, "patrol");
    return div;
  };
  legend.addTo(map);

  function setStatus(text, isError) {
    statusEl.textContent = text;
    statusEl.className = isError ? "error" : "muted";
  }

  function fetchJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) { throw new Error(body.message || ("HTTP " + r.status)); }
        return body;
      });
    });
  }

  // Leaflet reads tooltip and popup strings as HTML: every string from data (report fields, place
  // names from reference data) goes through text(), so markup in it is shown, never run.
  function text(s) { var d = document.createElement("div"); d.textContent = s == null ? "" : String(s); return d.innerHTML; }

  function timeWindow() {
    var days = parseInt(windowSel.value, 10);
    var end = new Date();
    end.setUTCHours(0, 0, 0, 0);
    end.setUTCDate(end.getUTCDate() + 1 - (parseInt(slider.max, 10) - parseInt(slider.value, 10)));
    var start = new Date(end.getTime() - days * 86400000);
    return { start: start.toISOString().slice(0, 19) + "Z", end: end.toISOString().slice(0, 19) + "Z",
             label: T.from + " " + start.toISOString().slice(0, 10) + " " + T.until + " " + end.toISOString().slice(0, 10) };
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

  function loadReference() {
    return fetchJSON("/map/data/reference.geojson").then(function (fc) {
      fc.features.forEach(function (f) {
        var p = f.properties;
        if (p.kind === "mission_area") {
          var area = L.geoJSON(f, { style: { color: "#444", weight: 2, dashArray: "6 4", fill: false } });
          area.addTo(layers.area);
          map.fitBounds(area.getBounds());
        } else if (f.geometry.type === "Point") {
          var ll = [f.geometry.coordinates[1], f.geometry.coordinates[0]];
          var isSite = p.kind === "sensitive_site";
          var m = L.circleMarker(ll, { radius: isSite ? 5 : 3, color: isSite ? "#6a00a8" : "#222",
                                       fillColor: isSite ? "#e7d4f5" : "#222", fillOpacity: 1, weight: isSite ? 2 : 1 });
          m.bindTooltip(text(p.name), { permanent: !isSite, direction: "right", className: isSite ? "site-label" : "place-label" });
          m.addTo(isSite ? layers.sites : layers.places);
        } else {
          L.geoJSON(f, { style: { color: "#666", weight: 1, fill: false } }).bindTooltip(text(p.name)).addTo(layers.area);
        }
      });
    });
  }

  function loadReports() {
    return fetchJSON("/map/data/reports.geojson?" + query()).then(function (fc) {
      layers.reports.clearLayers();
      var markers = fc.features.map(function (f) {
        var p = f.properties;
        var m = L.circleMarker([f.geometry.coordinates[1], f.geometry.coordinates[0]], {
          radius: 5, weight: 1, color: "#222", fillColor: STATUS_COLOURS[p.review_status] || "#2c7fb8", fillOpacity: 0.9 });
        m.bindPopup("<strong>" + text(p.title) + "</strong><br>" + text(p.event_time) + " · " + text(p.contingent) +
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
      throw err;
    });
  }

  function cellPopup(p) {
    return T.count + ": " + text(p.count) + "<br>z = " + Number(p.z).toFixed(2) + ", q = " + Number(p.q != null ? p.q : p.p).toFixed(4) +
      (p.category ? "<br>" + text(T[p.category] || p.category) : "");
  }

  function loadPatrols() {
    return fetchJSON("/map/data/patrols.geojson?" + query()).then(function (fc) {
      layers.patrols.clearLayers();
      L.geoJSON(fc, { style: { color: "#333", weight: 2, opacity: 0.7 } })
        .eachLayer(function (l) { l.bindPopup(text(l.feature.properties.title) + "<br>" + text(l.feature.properties.contingent)); })
        .addTo(layers.patrols);
    });
  }

  var pending = null;
  var fitted = false;
  var hotBounds = L.latLngBounds([]);
  function reload() {
    var w = timeWindow();
    timeLabel.textContent = w.label;
    delete el.dataset.loaded;
    setStatus(T.loading, false);
    var errors = [];
    function keep(p) { return p.catch(function (e) { errors.push(e.message); }); }
    Promise.all([
      keep(loadReports()),
      keep(loadCells("hotspots", layers.hotspots, function (p) {
        return p.bin ? hexStyle(BIN_COLOURS[String(p.bin)]) : null; }, cellPopup)),
      keep(loadCells("emerging", layers.emerging, function (p) {
        return EMERGING_COLOURS[p.category] ? hexStyle(EMERGING_COLOURS[p.category]) : null; }, cellPopup)),
      keep(loadCells("coverage-gaps", layers.gaps, function () {
        return { color: "#6a00a8", weight: 3, dashArray: "5 4", fillOpacity: 0.1, fillColor: "#6a00a8" }; }, cellPopup)),
      keep(loadPatrols())
    ]).then(function () {
      setStatus(errors.length ? errors.filter(function (e, i) { return errors.indexOf(e) === i; }).join("; ") : "", errors.length > 0);
      if (!fitted && hotBounds.isValid()) {
        // First view: the hot spots (the mission area is much larger than where violence clusters).
        map.fitBounds(hotBounds.pad(0.2), { maxZoom: 11, animate: false });
        fitted = true;
      }
      el.dataset.loaded = "true";
    });
  }

  function schedule() {
    if (pending) { clearTimeout(pending); }
    delete el.dataset.loaded;  // the layers are about to change: no longer "loaded" for this view
    pending = setTimeout(reload, 250);
  }
  slider.addEventListener("input", function () { timeLabel.textContent = timeWindow().label; });
  slider.addEventListener("change", schedule);
  windowSel.addEventListener("change", schedule);

  loadReference().catch(function (e) { setStatus(e.message, true); }).then(reload);
}());
