/* The small map on a report page: the report's point on the mission's base map when one is
   installed (GET /api/v1/basemaps), else on a plain background with the scale. Nothing external. */
(function () {
  "use strict";
  var el = document.getElementById("report-map");
  if (!el || typeof L === "undefined") { return; }
  var lat = parseFloat(el.dataset.lat), lon = parseFloat(el.dataset.lon);
  var map = L.map(el, { zoomControl: true, attributionControl: false }).setView([lat, lon], 12);
  L.control.scale().addTo(map);
  L.circleMarker([lat, lon], { radius: 8, weight: 2, color: "#222", fillColor: "#d0021b", fillOpacity: 0.9 })
    .addTo(map).bindTooltip(el.dataset.title || "");
  fetch("/api/v1/basemaps", { credentials: "same-origin" }).then(function (r) {
    return r.ok ? r.json() : null;
  }).then(function (list) {
    var first = list && (list.items || list)[0];
    if (first && first.name) {
      L.tileLayer("/api/v1/basemaps/" + encodeURIComponent(first.name) + "/{z}/{x}/{y}", {
        minZoom: first.min_zoom, maxZoom: first.max_zoom }).addTo(map);
    }
  }).catch(function () { /* no base map: the point and the scale still read */ });
  el.dataset.ready = "1";
})();
