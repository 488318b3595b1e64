// Staff pages (issue 13): department filter boxes, confirmations before destructive presses,
// select-all for bulk actions. Every page works without this file.
(function () {
  "use strict";
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

  // A filter box above a department picker: typing narrows the options (name, English name, code);
  // a single match is selected; Enter never submits the form from the box.
  $$("input.dept-filter").forEach((box) => {
    const sel = document.getElementById(box.dataset.for);
    if (!sel) return;
    const filter = () => {
      const q = box.value.trim().toLowerCase();
      const shown = [];
      $$("option", sel).forEach((o) => {
        if (!o.value) return;
        const hit = !q || (o.dataset.search || o.textContent.toLowerCase()).includes(q) || o.textContent.toLowerCase().includes(q);
        o.hidden = !hit; o.disabled = !hit;
        if (hit) shown.push(o);
      });
      $$("optgroup", sel).forEach((g) => { g.hidden = !$$("option", g).some((o) => !o.hidden); });
      const cur = sel.selectedOptions[0];
      if (q && shown.length && (!cur || !cur.value || cur.hidden)) sel.value = shown[0].value;
    };
    box.addEventListener("input", filter);
    box.addEventListener("keydown", (ev) => { if (ev.key === "Enter") { ev.preventDefault(); filter(); sel.focus(); } });
  });

  // Forms marked data-confirm ask before they post (the server asks again when JS is off).
  $$("form[data-confirm]").forEach((f) => f.addEventListener("submit", (ev) => {
    if (!window.confirm(f.dataset.confirm)) ev.preventDefault();
  }));

  // Console: the incoming number's earlier orders, as soon as the number is typed.
  const phone = document.getElementById("citizen_phone");
  const callerPanel = document.getElementById("caller-panel");
  if (phone && callerPanel) {
    const list = document.getElementById("caller-history");
    const esc = (s) => String(s == null ? "" : s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
    let timer = null;
    let last = "";
    const look = async () => {
      const digits = phone.value.replace(/\D/g, "");
      if (digits === last) return;
      last = digits;
      if (digits.length < 7) { callerPanel.hidden = true; return; }
      try {
        const r = await fetch("/console/caller?phone=" + encodeURIComponent(digits), { credentials: "same-origin", headers: { Accept: "application/json" } });
        if (!r.ok) return;
        const data = await r.json();
        const rows = data.orders || [];
        list.innerHTML = rows.length
          ? rows.map((o) => `<li data-code="${esc(o.code)}"><a class="mono" href="/orders/${esc(o.code)}">${esc(o.code)}</a> <span class="badge st st-${esc(o.status)}">${esc(o.status_label)}</span> <span class="muted small">${esc(o.received_at)} · ${esc(o.department)}</span><div class="small" translate="no">${esc(o.subject)}</div></li>`).join("")
          : `<li class="muted">${esc(list.dataset.none)}</li>`;
        callerPanel.hidden = false;
      } catch (e) { /* the panel stays hidden */ }
    };
    phone.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(look, 300); });
    if (phone.value) look();
  }

  // Order page: a reply template fills the reply box (the handler then edits the X's).
  const tpl = document.getElementById("reply-template");
  if (tpl) {
    tpl.addEventListener("change", () => {
      const box = document.getElementById(tpl.dataset.target);
      if (box && tpl.value) { box.value = tpl.value; box.focus(); }
    });
  }

  // Bulk actions: a "select all" box ticks the rows' boxes.
  $$("input[data-select-all]").forEach((all) => all.addEventListener("change", () => {
    $$(`input[type=checkbox][name="${all.dataset.selectAll}"]`).forEach((b) => { b.checked = all.checked; });
  }));
})();
