// Shared helpers: JSON API calls with the session cookie and the CSRF header; safe DOM building (no innerHTML
// with data: every text goes through textContent).
(function () {
  "use strict";
  const meta = document.querySelector('meta[name="csrf-token"]');
  const csrf = meta ? meta.content : "";

  async function api(method, url, body, opts) {
    const headers = { "Accept": "application/json" };
    if (method !== "GET") headers["X-CSRF-Token"] = csrf;
    let payload;
    if (body instanceof FormData) payload = body;
    else if (body !== undefined) { headers["Content-Type"] = "application/json"; payload = JSON.stringify(body); }
    Object.assign(headers, (opts && opts.headers) || {});
    const r = await fetch(url, { method, headers, body: payload, credentials: "same-origin", signal: opts && opts.signal });
    const type = r.headers.get("content-type") || "";
    const data = type.includes("json") ? await r.json() : null;
    if (!r.ok) {
      const d = data && data.detail;
      const msg = d && d.message ? d.message : (Array.isArray(d) ? d.map((e) => e.msg).join(";") : `请求失败(${r.status})`);
      const err = new Error(msg); err.status = r.status; err.detail = d; throw err;
    }
    return data;
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  function empty(text) { return el("div", { class: "empty-panel" }, text || "暂无数据"); }

  window.XF = { api, el, empty, csrf };
})();
