// The city dashboard's charts, drawn offline with the plotly bundle the app serves.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("dash-data").textContent);
  const L = JSON.parse(document.getElementById("dash-labels").textContent);
  if (!window.Plotly) return;
  const font = { family: 'system-ui, "Noto Sans CJK SC", "PingFang SC", sans-serif', size: 12 };
  // On a phone the legend goes under the chart and the toolbar stays out of the way (it covered the
  // legends); the toolbar speaks the page's language (plotly's own zh-CN locale, served by the app) and
  // has no button that sends a chart to an outside service.
  const phone = window.matchMedia && window.matchMedia("(max-width: 700px)").matches;
  const legend = phone ? { orientation: "h", x: 0, y: -0.25 } : { orientation: "h", x: 0, y: 1.15 };
  const layout = (extra) => Object.assign({ margin: { l: 40, r: 10, t: 30, b: 40 }, font, paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)", legend }, extra || {});
  const zh = document.body.dataset.lang !== "en";
  const cfg = {
    displaylogo: false, responsive: true, showSendToCloud: false, showEditInChartStudio: false, showLink: false,
    displayModeBar: phone ? false : "hover", locale: zh ? "zh-CN" : "en",
    modeBarButtonsToRemove: ["lasso2d", "select2d", "sendDataToCloud", "editInChartStudio"],
  };
  const t = data.trend || [];
  Plotly.newPlot("chart-trend", [
    { type: "bar", name: L.received, x: t.map((r) => r.bucket), y: t.map((r) => r.received), marker: { color: "#9fb3d1" } },
    { type: "scatter", mode: "lines+markers", name: L.finished, x: t.map((r) => r.bucket), y: t.map((r) => r.finished), line: { color: "#1b7f3b" } },
    { type: "scatter", mode: "lines", name: L.on_time, x: t.map((r) => r.bucket), y: t.map((r) => r.on_time), line: { color: "#b71c1c", dash: "dot" } },
  ], layout({ xaxis: { type: "date", tickformat: "%m-%d" }, margin: { l: 40, r: 10, t: 30, b: 50 } }), cfg);
  const c = (data.categories || []).slice(0, 12);
  Plotly.newPlot("chart-categories", [{
    type: "bar", orientation: "h", x: c.map((r) => r.orders).reverse(), y: c.map((r) => r.name || L.uncategorised).reverse(), marker: { color: "#b71c1c" },
  }], layout({ margin: { l: 120, r: 10, t: 10, b: 30 } }), cfg);
  const d = data.districts || [];
  Plotly.newPlot("chart-districts", [
    { type: "bar", name: L.received, x: d.map((r) => r.name || L.unknown), y: d.map((r) => r.orders), marker: { color: "#9fb3d1" } },
    { type: "bar", name: L.finished, x: d.map((r) => r.name || L.unknown), y: d.map((r) => r.finished), marker: { color: "#1b7f3b" } },
  ], layout({ barmode: "group" }), cfg);
  const ch = data.channels || [];
  Plotly.newPlot("chart-channels", [{
    type: "pie", hole: 0.45, labels: ch.map((r) => (L.channels || {})[r.channel] || r.channel), values: ch.map((r) => r.orders), textinfo: "label+percent",
  }], layout({ showlegend: false, margin: { l: 10, r: 10, t: 10, b: 10 } }), cfg);

  const hot = document.getElementById("hotspots");
  if (hot) {
    const esc = (s) => String(s == null ? "" : s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
    const say = (text) => { hot.innerHTML = `<li class="muted">${esc(text)}</li>`; };
    fetch(hot.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
      .then((h) => {
        const list = h.hotspots || [];
        if (!list.length) { say(hot.dataset.empty); return; }
        hot.innerHTML = list.slice(0, 10).map((x) => `<li class="hotspot"><strong>${esc(x.title || x.label)}</strong> <span class="pill">${esc(x.size)}</span>${x.place ? ` <span class="muted small">${esc(x.place)}</span>` : ""}</li>`).join("");
      })
      .catch(() => say(hot.dataset.failed));
  }
})();
