// Registration desk: analyse the draft as the clerk types or pastes (debounced POST /api/analysis, nothing saved),
// pre-fill what the clerk has not typed, show category, top-3 departments with reasons, repeats, legal channel and
// risks; then register with the clerk's decision (POST /api/desk/register) and upload the scan. The buttons (and
// whether there is a 转送单位 at all) are the user's own decisions, rendered by the server (desk_decisions).
(function () {
  "use strict";
  const { api, el } = window.XF;
  const $ = (id) => document.getElementById(id);
  const geo = JSON.parse($("geo-data").textContent);
  const form = $("desk-form");
  const touched = new Set();  // fields the clerk edited by hand: never overwritten by suggestions
  let timer = null, controller = null, lastKey = "", idemKey = newKey();

  function newKey() { return (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random()); }

  const dispatching = Boolean($("f-department"));  // only the bureau's clerks choose a unit to forward to
  ["f-name", "f-id", "f-phone", "f-township", "f-village", "f-headcount", "f-category", "f-department"].forEach((id) => {
    if ($(id)) $(id).addEventListener("input", () => touched.add(id));
  });

  function fillVillages(township, selected) {
    const sel = $("f-village");
    sel.replaceChildren(el("option", { value: "" }, "—"));
    geo.villages.filter((v) => township && v.code.startsWith(township)).forEach((v) => {
      sel.append(el("option", { value: v.code, selected: v.code === selected }, v.name));
    });
  }
  $("f-township").addEventListener("change", () => fillVillages($("f-township").value, ""));

  function suggest(id, value) {
    if (value === undefined || value === null || value === "" || touched.has(id)) return;
    const node = $(id);
    if (!node) return;
    if (node.value === String(value)) return;
    node.value = value;
    node.classList.add("suggested");
  }

  function schedule(delay) {
    clearTimeout(timer);
    timer = setTimeout(analyse, delay);
  }
  $("f-body").addEventListener("input", () => schedule(600));
  $("f-title").addEventListener("input", () => schedule(800));
  $("f-body").addEventListener("paste", () => schedule(50));

  async function analyse() {
    const title = $("f-title").value.trim(), body = $("f-body").value.trim();
    if (body.length < 4) return;
    const key = title + "\u0000" + body;
    if (key === lastKey) return;
    lastKey = key;
    if (controller) controller.abort();
    controller = new AbortController();
    $("analysis-state").textContent = "分析中…";
    try {
      const r = await api("POST", "/api/analysis", {
        title, body,
        division_code: $("f-village").value || $("f-township").value || null,
        petitioner_name: $("f-name").value.trim() || null,
      }, { signal: controller.signal });
      show(r);
      $("analysis-state").textContent = "已根据当前内容更新";
    } catch (e) {
      if (e.name === "AbortError") return;
      $("analysis-state").textContent = "分析失败:" + e.message;
    }
  }

  function show(r) {
    const a = r.analysis || {}, f = r.fields || {};
    suggest("f-name", f.name); suggest("f-id", f.id_number); suggest("f-phone", f.phone);
    suggest("f-headcount", f.headcount); suggest("f-category", f.category);
    if (f.township_code && !touched.has("f-township")) {
      suggest("f-township", f.township_code);
      fillVillages(f.township_code, f.village_code || "");
      if (f.village_code) $("f-village").classList.add("suggested");
    }
    const depts = a.departments || [];
    if (depts.length) suggest("f-department", depts[0].code);

    const out = [];
    if (a.category) {
      const p = (a.category.probabilities || {})[a.category.label];
      out.push(el("h3", {}, "内容分类"), el("p", { class: "category" }, a.category.label, p ? ` (${Math.round(p * 100)}%)` : ""));
    }
    out.push(el("h3", {}, "建议责任单位"));
    if (depts.length) {
      out.push(el("ol", { class: "suggestions" }, depts.slice(0, 3).map((d, i) =>
        el("li", {},
          el("label", { class: "inline" },
            dispatching ? el("input", { type: "radio", name: "pick", value: d.code, checked: i === 0, onchange: () => { $("f-department").value = d.code; touched.add("f-department"); } }) : null,
            " ", el("strong", {}, d.name), ` ${Math.round((d.confidence || 0) * 100)}%`),
          el("ul", { class: "reasons" }, (d.reasons || []).map((x) => el("li", {}, x)))))));
    } else out.push(el("p", { class: "muted" }, "暂无建议"));
    if (a.auto_dispatch_reason) out.push(el("p", { class: "hint" }, a.auto_dispatch ? "可自动分派:" : "建议人工确认:", a.auto_dispatch_reason));
    const loc = a.location || {};
    if (loc.township_name) out.push(el("h3", {}, "问题属地"), el("p", {}, loc.township_name, loc.village_name || ""));
    if (a.matter_kind) out.push(el("h3", {}, "事项类型"), el("p", {}, a.matter_kind.kind, el("small", {}, ` ${a.matter_kind.reason || ""}`)));
    out.push(el("h3", {}, "法定途径"));
    out.push(a.legal_channel ? el("p", { class: "legal" }, el("strong", {}, a.legal_channel.label), ":", a.legal_channel.reason || "")
                             : el("p", { class: "muted" }, "未发现应通过诉讼、仲裁、复议等法定途径解决的情形"));
    out.push(el("h3", {}, "风险提示"));
    const risks = a.risks || [];
    out.push(risks.length ? el("p", { class: "risks" }, risks.map((x) => el("span", { class: "tag risk", title: x.reason }, x.label))) : el("p", { class: "muted" }, "无"));
    out.push(el("h3", {}, "疑似重复信访"));
    const reps = r.repeats || [];
    out.push(reps.length ? el("ul", { class: "repeats" }, reps.map((x) => el("li", {},
      el("a", { href: `/petitions/${x.petition_id}`, target: "_blank" }, x.number), " ", x.title, " ",
      el("small", {}, (x.reasons || []).map((y) => y.label).join("、"))))) : el("p", { class: "muted" }, "未发现"));
    $("analysis-body").replaceChildren(...out);
    $("analysis-body").classList.remove("muted");
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const decision = (ev.submitter && ev.submitter.value) || "review";
    const done = (ev.submitter && ev.submitter.dataset.done) || "已登记";
    const result = $("desk-result");
    const v = (id) => $(id).value.trim();
    const petition = {
      channel: form.querySelector('input[name="channel"]:checked').value,
      title: v("f-title") || v("f-body").slice(0, 30),
      body: v("f-body"),
      petitioners: v("f-name") ? [{ name: v("f-name"), id_number: v("f-id") || null, phone: v("f-phone") || null }] : [],
      location: (v("f-village") || v("f-township") || v("f-address")) ? { division_code: v("f-village") || v("f-township") || null, address: v("f-address") || null } : null,
      headcount: v("f-headcount") ? Number(v("f-headcount")) : null,
      category: v("f-category") || null,
    };
    if (decision === "dispatch" && !(dispatching && v("f-department"))) { result.className = "error"; result.textContent = "请选择转送单位"; return; }
    form.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    try {
      const p = await api("POST", "/api/desk/register", { petition, decision, department: (dispatching && v("f-department")) || null, note: v("f-note") || null },
                          { headers: { "Idempotency-Key": idemKey } });
      const scan = $("f-scan").files[0];
      let scanNote = "";
      if (scan) {
        const fd = new FormData(); fd.append("file", scan);
        try { await api("POST", `/api/petitions/${p.id}/attachments`, fd); scanNote = ",扫描件已上传"; }
        catch (e) { scanNote = `,扫描件上传失败:${e.message}`; }
      }
      result.className = "note";
      result.replaceChildren(
        decision === "dispatch" ? `${done} ${p.department_name || ""}` : done,
        ":", el("a", { href: `/petitions/${p.id}`, class: "created" }, p.number),
        p.query_code ? el("span", {}, ` 查询码 `, el("strong", { class: "query-code" }, p.query_code), "(请告知信访人)") : "",
        scanNote);
      form.reset(); touched.clear(); lastKey = ""; idemKey = newKey();
      form.querySelectorAll(".suggested").forEach((n) => n.classList.remove("suggested"));
    } catch (e) {
      result.className = "error"; result.textContent = e.message;
    } finally {
      form.querySelectorAll("button").forEach((b) => { b.disabled = false; });
    }
  });
})();
