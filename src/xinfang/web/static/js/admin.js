// Administration: users (create, reset password, activate), rules (test a draft, save a validated version),
// keyword suggestions, notice template upload, alert rules and push channels (read-only, secrets masked).
(function () {
  "use strict";
  const { api, el, empty } = window.XF;
  const $ = (id) => document.getElementById(id);
  const msg = (text, ok) => { const m = $("admin-msg"); m.className = ok ? "note" : "error"; m.textContent = text; };

  const newUser = $("new-user");
  if (newUser) newUser.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const d = Object.fromEntries(new FormData(newUser).entries());
    if (!d.unit) d.unit = null; if (!d.display_name) d.display_name = null;
    try { await api("POST", "/api/admin/users", d); msg(`已创建用户 ${d.username}`, true); setTimeout(() => location.reload(), 600); }
    catch (e) { msg(e.message); }
  });
  document.querySelectorAll("button.reset-password").forEach((b) => b.addEventListener("click", async () => {
    const user = b.closest("tr").dataset.username;
    const pw = window.prompt(`为 ${user} 设置新密码(至少8位,含字母和数字):`);
    if (!pw) return;
    try { await api("POST", `/api/admin/users/${encodeURIComponent(user)}/password`, { password: pw }); msg(`已重置 ${user} 的密码`, true); }
    catch (e) { msg(e.message); }
  }));
  document.querySelectorAll("button.reset-totp").forEach((b) => b.addEventListener("click", async () => {
    const user = b.closest("tr").dataset.username;
    if (!window.confirm(`确定重置 ${user} 的双因素认证?该用户需重新启用(手机丢失时使用)。`)) return;
    try { await api("DELETE", `/api/admin/users/${encodeURIComponent(user)}/totp`); location.reload(); }
    catch (e) { msg(e.message); }
  }));
  document.querySelectorAll("button.toggle-active").forEach((b) => b.addEventListener("click", async () => {
    const user = b.closest("tr").dataset.username;
    try { await api("POST", `/api/admin/users/${encodeURIComponent(user)}/active`, { active: b.dataset.active === "true" }); location.reload(); }
    catch (e) { msg(e.message); }
  }));

  const rulesOut = $("rules-result");
  function showError(e) {
    const d = e.detail || {};
    rulesOut.replaceChildren(el("p", { class: "error" }, "校验未通过:", e.message, d.params ? ` (${JSON.stringify(d.params)})` : ""));
  }
  if ($("rules-test")) $("rules-test").addEventListener("click", async () => {
    try {
      const r = await api("POST", "/api/routing/rules/test", { title: $("test-title").value, body: $("test-body").value, content: $("rules-yaml").value });
      const depts = r.departments || (r.analysis && r.analysis.departments) || [];
      rulesOut.replaceChildren(el("p", { class: "note" }, "草稿校验通过。分派结果:"),
        el("ol", {}, depts.slice(0, 3).map((d) => el("li", {}, d.name, ` ${Math.round((d.confidence || 0) * 100)}% `, el("small", {}, (d.reasons || []).join(";"))))));
    } catch (e) { showError(e); }
  });
  if ($("rules-save")) $("rules-save").addEventListener("click", async () => {
    const base = $("rules-save").dataset.base;
    try {
      const v = await api("PUT", "/api/routing/rules", { content: $("rules-yaml").value, comment: $("rules-comment").value || null, base_version: base ? Number(base) : null });
      msg(`已保存为版本 ${v.number}`, true); setTimeout(() => { location.href = `/admin?section=rules&a=${v.number > 1 ? v.number - 1 : ""}&b=${v.number}`; }, 600);
    } catch (e) { showError(e); }
  });
  const ks = $("keyword-suggestions");
  async function loadKeywords() {
    try {
      const r = await api("GET", "/api/routing/keyword-suggestions");
      const list = r.items || [];
      if (!list.length) { ks.replaceChildren(empty("暂无建议")); return; }
      ks.replaceChildren(el("table", { class: "list compact" }, el("thead", {}, el("tr", {}, ["词", "次数", "建议单位", ""].map((h) => el("th", {}, h)))),
        el("tbody", {}, list.slice(0, 20).map((k) => {
          const dept = k.department || (k.departments && k.departments[0] && k.departments[0].code) || "";
          const decide = (decision) => async () => {
            try { await api("POST", "/api/routing/keyword-suggestions/decide", { term: k.term, decision, department: dept || null }); loadKeywords(); }
            catch (e) { msg(e.message); }
          };
          return el("tr", {}, el("td", {}, k.term), el("td", {}, k.count ?? k.documents ?? ""), el("td", {}, k.department_name || dept),
            el("td", {}, el("button", { class: "small", onclick: decide("approve"), disabled: !dept }, "收录"), " ", el("button", { class: "small secondary", onclick: decide("reject") }, "忽略")));
        }))));
    } catch (e) { ks.replaceChildren(empty("暂无数据")); }
  }
  if (ks) loadKeywords();

  document.querySelectorAll("form.template-upload").forEach((f) => f.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const kind = f.closest("tr").dataset.kind;
    try { const r = await api("PUT", `/api/admin/notice-templates/${kind}`, new FormData(f)); msg(`已替换${r.title}模板`, true); setTimeout(() => location.reload(), 800); }
    catch (e) { msg(e.message); }
  }));

  async function readOnly(id, url, render) {
    const box = $(id); if (!box) return;
    try { const r = await api("GET", url); const list = Array.isArray(r) ? r : (r.items || []);
      box.replaceChildren(list.length ? render(list, r.columns) : empty()); }
    catch (e) { box.replaceChildren(empty(`无法读取:${e.message}`)); }
  }
  // columns: [[key, 中文列名], ...] from the API (alerts.config); without them, the first six keys
  const table = (list, columns) => {
    const cols = columns || Object.keys(list[0]).slice(0, 6).map((k) => [k, k]);
    return el("table", { class: "list compact" }, el("thead", {}, el("tr", {}, cols.map(([, label]) => el("th", {}, label)))),
      el("tbody", {}, list.map((x) => el("tr", {}, cols.map(([k]) => el("td", {}, typeof x[k] === "object" && x[k] !== null ? JSON.stringify(x[k]) : (x[k] ?? "")))))));
  };
  readOnly("alert-rules", "/api/alerts/rules", table);
  readOnly("alert-channels", "/api/alerts/channels", table);
})();
