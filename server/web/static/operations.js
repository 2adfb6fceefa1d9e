// The operations view: open alerts, kept current by the server's alert stream (SSE).
// Cards are built with textContent only (never innerHTML): alert text comes from field reports.
(function () {
  "use strict";
  const root = document.getElementById("ops");
  const list = document.getElementById("alert-list");
  const countEl = document.getElementById("ops-new-count");
  const statusEl = document.getElementById("ops-status");
  const t = JSON.parse(root.dataset.i18n);
  const baseTitle = document.title;
  const alerts = new Map(); // id -> alert, as the server last described it
  let map = null;
  let layer = null;
  let selected = null;

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function beep() {
    // A short tone for a new alert; browsers allow it once the visitor has interacted with the page.
    try {
      const ctx = new (window.AudioContext || window.webkitAudioContext)();
      const osc = ctx.createOscillator();
      osc.frequency.value = 880;
      osc.connect(ctx.destination);
      osc.start();
      osc.stop(ctx.currentTime + 0.2);
    } catch (e) { /* no audio: the title and the list still show it */ }
  }

  function card(a) {
    const li = el("li", "alert-card status-" + a.status);
    li.dataset.id = a.id;
    li.dataset.status = a.status;
    const head = el("div", "alert-head");
    head.appendChild(el("strong", "alert-rule", a.rule.name));
    head.appendChild(el("span", "badge status", t[a.status] || a.status));
    li.appendChild(head);
    li.appendChild(el("div", "muted", (a.when || "").replace("T", " ").slice(0, 16) + "Z · " +
      a.reports.map(r => r.contingent).filter((c, i, all) => all.indexOf(c) === i).join(", ")));
    const ul = el("ul", "alert-reports");
    for (const r of a.reports) {
      const item = el("li");
      const link = el("a", null, r.title || r.id);
      link.href = "/reports/" + encodeURIComponent(r.id);
      item.appendChild(link);
      item.appendChild(el("span", "muted", " · " + r.category + " · " + r.severity));
      ul.appendChild(item);
    }
    li.appendChild(ul);
    if (root.dataset.assign === "1") {
      const task = el("a", "make-task", t.make_task);
      task.href = "/tasks/new?source_kind=alert&source_ref=" + encodeURIComponent(a.id);
      task.addEventListener("click", ev => ev.stopPropagation());
      li.appendChild(task);
    }
    if (a.status === "new") {
      const btn = el("button", "ack", t.acknowledge);
      btn.type = "button";
      btn.addEventListener("click", ev => { ev.stopPropagation(); acknowledge(a.id, btn); });
      li.appendChild(btn);
    } else if (a.acknowledged) {
      li.appendChild(el("div", "muted", t.acknowledged + " " + t.by + " " + a.acknowledged.by));
    }
    li.addEventListener("click", () => show(a.id));
    return li;
  }

  function render() {
    const open = [...alerts.values()].filter(a => a.status !== "closed")
      .sort((x, y) => (y.raised_at || "").localeCompare(x.raised_at || "") || y.id - x.id);
    list.replaceChildren(...open.map(card));
    if (!open.length) list.appendChild(el("li", "muted", t.none));
    const fresh = open.filter(a => a.status === "new").length;
    countEl.textContent = String(fresh);
    document.title = (fresh ? "(" + fresh + ") " : "") + baseTitle;
    root.dataset.count = String(fresh);
    if (selected === null && open.length) show(open[0].id);
  }

  function show(id) {
    selected = id;
    const a = alerts.get(id);
    if (!a || !window.L) return;
    const el = document.getElementById("ops-map");
    if (!map) {
      map = L.map(el, { attributionControl: false }).setView([0, 0], 2);
    }
    if (layer) layer.remove();
    const points = a.reports.filter(r => r.lat !== null).map(r =>
      L.circleMarker([r.lat, r.lon], { radius: 7, color: "#b00020" }).bindTooltip(r.title || r.id));
    layer = L.featureGroup(points).addTo(map);
    if (points.length) map.fitBounds(layer.getBounds(), { maxZoom: 12, padding: [20, 20] });
    el.dataset.alert = String(id);
    el.dataset.markers = String(points.length);
  }

  async function acknowledge(id, btn) {
    btn.disabled = true;
    const body = new URLSearchParams({ csrf: root.dataset.csrf });
    const res = await fetch("/operations/alerts/" + id + "/acknowledge", { method: "POST", body });
    if (res.ok) {
      alerts.set(id, await res.json());
      render();
    } else {
      btn.disabled = false;
    }
  }

  async function start() {
    const res = await fetch("/operations/alerts.json");
    if (res.ok) for (const a of (await res.json()).items) alerts.set(a.id, a);
    render();
    const source = new EventSource("/operations/stream");
    source.addEventListener("ready", () => {
      statusEl.textContent = t.live;
      root.dataset.live = "true";
    });
    source.addEventListener("alert", ev => {
      const msg = JSON.parse(ev.data);
      const known = alerts.has(msg.alert.id);
      alerts.set(msg.alert.id, msg.alert);
      if (msg.type === "raised" && !known) { beep(); selected = null; }
      render();
    });
    source.onerror = () => {
      statusEl.textContent = t.reconnecting;
      root.dataset.live = "false";
    };
  }

  // Reports: the latest the visitor may read, then every new or changed one as it arrives.
  const feed = document.getElementById("report-feed");
  const reports = new Map(); // id -> summary, as the reports list would show it
  const MAX_REPORTS = 30;

  function renderReports() {
    const shown = [...reports.values()]
      .sort((x, y) => (y.received_at || "").localeCompare(x.received_at || "") || (y.last_seq || 0) - (x.last_seq || 0))
      .slice(0, MAX_REPORTS);
    feed.replaceChildren(...shown.map(r => {
      const li = el("li", "report-item" + (r.fresh ? " fresh" : ""));
      li.dataset.id = r.id;
      const link = el("a", null, r.title || r.id);
      link.href = "/reports/" + encodeURIComponent(r.id);
      li.appendChild(link);
      li.appendChild(el("span", "muted", " · " + (r.category_label || r.category) + " · " + t.severity + " " +
        r.severity + " · " + r.contingent + " · " + (r.event_time || "").replace("T", " ").slice(0, 16) + "Z"));
      return li;
    }));
    if (!shown.length) feed.appendChild(el("li", "muted", t.no_reports));
    feed.dataset.count = String(shown.length);
  }

  async function startReports() {
    const res = await fetch("/operations/reports.json");
    if (res.ok) for (const r of (await res.json()).items) reports.set(r.id, r);
    renderReports();
    const source = new EventSource("/operations/reports/stream");
    source.addEventListener("ready", () => { feed.dataset.live = "true"; });
    source.addEventListener("report", ev => {
      const r = JSON.parse(ev.data);
      r.fresh = true;
      reports.set(r.id, r);
      renderReports();
    });
    source.onerror = () => { feed.dataset.live = "false"; };
  }

  start();
  startReports();
})();
