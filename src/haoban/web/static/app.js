// haoban pages: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  const esc = (s) => String(s == null ? "" : s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));

  // JSON from our own API with the page's cookie; any failure (missing endpoint, no access) → null.
  async function getJSON(url, opts) {
    try {
      const r = await fetch(url, Object.assign({ credentials: "same-origin", headers: { Accept: "application/json" } }, opts || {}));
      if (!r.ok) return null;
      return await r.json();
    } catch (e) { return null; }
  }
  // The session cookie alone does not authorise a POST: the page's CSRF token goes along as a header.
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const csrfToken = csrfMeta ? csrfMeta.content : "";
  function postJSON(url, body) {
    return getJSON(url, { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrfToken }, body: JSON.stringify(body) });
  }
  function debounce(fn, ms) { let t; return function () { const a = arguments; clearTimeout(t); t = setTimeout(() => fn.apply(null, a), ms); }; }

  // Ctrl+Enter (or Cmd+Enter) submits the form a textarea belongs to.
  document.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey) && ev.target.form) {
      ev.preventDefault();
      const f = ev.target.form;
      const primary = f.querySelector("button[type=submit]");
      if (f.requestSubmit) f.requestSubmit(primary || undefined); else f.submit();
    }
  });

  // --- operator console ---------------------------------------------------------------------------
  const reg = $("#register-form");
  if (reg) {
    const content = $("#content", reg);
    document.addEventListener("keydown", (ev) => {
      if (!ev.altKey || ev.ctrlKey || ev.metaKey) return;
      const k = ev.key.toLowerCase();
      if (k === "n") { ev.preventDefault(); reg.reset(); content.focus(); }
      else if (k === "k" && $("#kb-q")) { ev.preventDefault(); $("#kb-q").focus(); }
      else if (k === "q") { ev.preventDefault(); location.href = "/console/queue"; }
      else if (/^[1-6]$/.test(ev.key)) {
        const r = $(`input[name=type][data-key="${ev.key}"]`, reg);
        if (r) { ev.preventDefault(); r.checked = true; r.dispatchEvent(new Event("change", { bubbles: true })); }
      }
    });
    // Life-safety content: a red banner, urgency set, one press hands the call to 110/119/120/122.
    const banner = $("#emergency-banner");
    if (banner) {
      const en = document.documentElement.lang === "en";
      const check = debounce(async () => {
        const text = content.value.trim();
        const data = text.length >= 2 ? await postJSON("/api/v1/emergency/check", { text }) : null;
        if (!data || !data.emergency) { banner.hidden = true; return; }
        $("#emergency-kind").textContent = (en ? data.label_en : data.label_zh) + " → " + data.lines.join(" / ");
        const box = $(".lines", banner);
        $$("button[data-line]", banner).forEach((b) => b.classList.toggle("suggested", data.lines.includes(b.dataset.line)));
        data.lines.slice().reverse().forEach((l) => { const b = $(`button[data-line="${l}"]`, banner); if (b) box.prepend(b); });
        $("#urgency", reg).value = "urgent";
        banner.hidden = false;
      }, 250);
      content.addEventListener("input", check);
      $$("button[data-line]", banner).forEach((b) => b.addEventListener("click", () => {
        $("#target", reg).value = b.dataset.line;
        $("#urgency", reg).value = "urgent";
        const primary = $("#btn-transfer", reg);
        if (reg.requestSubmit) reg.requestSubmit(primary); else primary.click();
      }));
    }
    const box = $("#suggest");
    // The likeliest departments first in the picker (a "suggested" group), every department once.
    // When the catalogue would hold the call for a dispatcher, the first one is pre-selected; when a
    // rule dispatches it, "automatic dispatch" stays chosen (keeps the rule's co-handlers) and names it.
    const dsel = $("#department", reg);
    let deptTouched = false;
    if (dsel) dsel.addEventListener("change", () => { deptTouched = true; });
    const rankDepartments = (ranked, d) => {
      if (!dsel) return;
      let head = $("optgroup.dept-suggested", dsel);
      if (head) { $$("option", head).forEach((o) => { const home = dsel.querySelector(`optgroup[data-kind="${o.dataset.kind}"]`); if (home) home.append(o); }); head.remove(); }
      const top = ranked.filter((c) => c.score > 0).slice(0, 5);
      if (!top.length) return;
      head = document.createElement("optgroup");
      head.className = "dept-suggested";
      head.label = dsel.dataset.suggested || "";
      top.forEach((c) => {
        const o = $(`option[value="${CSS.escape(c.code)}"]`, dsel);
        if (!o) return;
        o.dataset.kind = o.parentElement.dataset.kind || "";
        o.title = c.reason || "";
        head.append(o);
      });
      dsel.insertBefore(head, dsel.options[0].nextSibling);
      const auto = dsel.options[0];
      auto.dataset.label = auto.dataset.label || auto.textContent;
      const name = ($(`option[value="${CSS.escape(top[0].code)}"]`, dsel) || {}).textContent || top[0].code;
      auto.textContent = d.outcome === "dispatch" && d.department ? `${auto.dataset.label} → ${name}` : auto.dataset.label;
      if (!deptTouched && d.outcome === "hold") dsel.value = top[0].code;
    };
    const explain = debounce(async () => {
      const text = content.value.trim();
      if (text.length < 4) { box.innerHTML = `<p class="muted">${esc(box.dataset.empty)}</p>`; return; }
      const type = (reg.querySelector("input[name=type]:checked") || {}).value || "consult";
      const district = $("#district", reg).value || null;
      // The page's own route: the API's decision with its reasons in the page's language.
      const data = await postJSON("/console/explain", { text, order_type: type, district });
      if (!data) { $("#suggest-panel").hidden = true; return; }
      // The caller named the district: fill the form's district (the operator can still change it).
      const dsel = $("#district", reg);
      if (data.district_from_text && !dsel.value) { dsel.value = data.district_from_text; dsel.classList.add("from-text"); }
      $("#suggest-panel").hidden = false;
      const d = data.decision || {};
      rankDepartments(data.departments || [], d);
      const pct = Math.round((d.confidence || 0) * 100);
      const dept = d.department ? (($(`#department option[value="${CSS.escape(d.department)}"]`) || {}).textContent || d.department) : "";
      const what = d.outcome === "dispatch" ? dept : (d.outcome_label || d.outcome);
      box.innerHTML = `<p class="suggest-main" id="suggest-dept">${esc(what)}</p>
        <div class="meter" aria-hidden="true"><i style="width:${pct}%"></i></div>
        <p class="small">${esc(box.dataset.conf)} <strong id="suggest-conf">${pct}%</strong>${d.rule ? " · " + esc(d.rule) : ""}</p>
        <p class="small muted">${esc(d.why || "")}</p>`;
    }, 350);
    content.addEventListener("input", explain);
    reg.addEventListener("change", explain);
    if (content.value) explain();

    const kbq = $("#kb-q");
    if (kbq) {
      const list = $("#kb-results");
      const search = debounce(async (q) => {
        if (!q || q.length < 2) { list.innerHTML = ""; return; }
        const data = await getJSON("/api/v1/knowledge/search?q=" + encodeURIComponent(q));
        if (data === null) { list.innerHTML = `<li class="muted">${esc(list.dataset.empty)}</li>`; return; }
        const hits = ((data && data.items) || []).slice(0, 5);
        if (!hits.length) { list.innerHTML = `<li class="muted">${esc(list.dataset.empty)}</li>`; return; }
        list.innerHTML = hits.map((h, i) => `<li><strong>${esc(h.question)}</strong>
          <div class="small">${esc(h.snippet || h.answer)}</div>
          <button type="button" class="btn small secondary" data-i="${i}">${esc(list.dataset.use)}</button></li>`).join("");
        $$("button[data-i]", list).forEach((b) => b.addEventListener("click", () => {
          const h = hits[Number(b.dataset.i)];
          const answer = $("#answer");
          answer.value = h.answer;
          answer.closest("details").open = true;
          answer.focus();
        }));
      }, 300);
      kbq.addEventListener("input", () => search(kbq.value.trim()));
      content.addEventListener("input", debounce(() => { if (!kbq.value) search(content.value.trim().slice(0, 60)); }, 600));
    }
    const similar = $("#similar");
    if (similar) {
      content.addEventListener("input", debounce(async () => {
        const text = content.value.trim();
        const none = `<li class="muted">${esc(similar.dataset.empty)}</li>`;
        if (text.length < 10) { similar.innerHTML = none; return; }
        const district = $("#district", reg).value || null;
        const data = await postJSON("/api/v1/duplicates/check", { text, district });
        const hits = ((data && data.candidates) || []).slice(0, 5);
        if (!hits.length) { similar.innerHTML = none; return; }
        // Each candidate with its reasons (place, problem, time apart, wording, near copy).
        const reason = (r) => {
          const key = "reason" + r.signal.replace(/(^|_)(\w)/g, (_, __, c) => c.toUpperCase());
          return `<span class="reason reason-${esc(r.signal)}">${esc(similar.dataset[key] || r.signal)}: ${esc(r.detail)}</span>`;
        };
        similar.innerHTML = hits.map((h) => `<li data-code="${esc(h.code)}"><a class="mono" href="/orders/${esc(h.code)}">${esc(h.code)}</a> ${esc(h.subject || "")}
          <span class="pill">${Math.round((h.score != null ? h.score : h.similarity) * 100)}%</span>
          <span class="reasons muted small">${(h.reasons || []).map(reason).join(" · ")}</span></li>`).join("");
      }, 700));
    }
  }

  // --- citizen near-duplicate hint -----------------------------------------------------------------
  const dupHint = $("#dup-hint");
  if (dupHint) {
    const content = $("#content");
    content.addEventListener("input", debounce(async () => {
      const text = content.value.trim();
      if (text.length < 10) { dupHint.hidden = true; return; }
      const district = ($("#district") || {}).value || null;
      const data = await postJSON("/portal/similar", { text, district });
      const n = (data && data.similar) || 0;
      dupHint.hidden = !n;
      dupHint.innerHTML = `<strong>${esc(dupHint.dataset.label)}</strong> ${n} · ${esc(dupHint.dataset.more)}`;
    }, 700));
  }

  // Supervisor board: "all departments" reveals the hidden rows (no inline handlers: the CSP forbids them).
  const moreDepts = $("#more-depts");
  if (moreDepts) {
    moreDepts.addEventListener("click", () => {
      $$("#by-dept .more-row").forEach((r) => { r.hidden = false; });
      moreDepts.remove();
    });
  }
})();
