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

  // Bulk actions: a "select all" box ticks the rows' boxes.
  $$("input[data-select-all]").forEach((all) => all.addEventListener("change", () => {
    $$(`input[type=checkbox][name="${all.dataset.selectAll}"]`).forEach((b) => { b.checked = all.checked; });
  }));
})();
