// The city dashboard's charts, drawn offline with the plotly bundle the app serves.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("dash-data").textContent);
  const L = JSON.parse(document.getElementById("dash-labels").textContent);
  if (!window.Plotly) return;
  const font = { family: 'system-ui, "Noto Sans CJK SC", "PingFang SC", sans-serif', size: 12 };
  const layout = (extra) => Object.assign({ margin: { l: 40, r: 10, t: 30, b: 40 }, font, paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)", legend: { orientation: "h", x: 0, y: 1.15 } }, extra || {});
  const cfg = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["lasso2d", "select2d"] };
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
    fetch("/api/v1/hotspots", { credentials: "same-origin" }).then((r) => (r.ok ? r.json() : null)).then((h) => {
      const list = Array.isArray(h) ? h : (h && (h.items || h.hotspots)) || [];
      if (!list.length) return;
      hot.innerHTML = list.slice(0, 10).map((x) => `<li><strong>${String(x.title || x.label || x.place || "").replace(/</g, "&lt;")}</strong> <span class="pill">${x.size || x.orders || ""}</span></li>`).join("");
      document.getElementById("hotspots-panel").hidden = false;
    }).catch(() => {});
  }
})();
