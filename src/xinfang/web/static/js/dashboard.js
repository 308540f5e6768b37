// Leadership dashboard: heat map (township polygons + village points from GeoJSON, no tiles), trend, categories,
// hot matters, the 三率, alerts (acknowledge/resolve), drill-down to the petition list (?division=CODE).
// Each panel asks its API and shows 暂无数据 when the API is absent or empty.
(function () {
  "use strict";
  const { api, el, empty } = window.XF;
  const $ = (id) => document.getElementById(id);
  const overview = JSON.parse($("overview-data").textContent);
  const period = `from=${overview.from}&to=${overview.to}`;
  const pct = (v) => (v === null || v === undefined || isNaN(v)) ? "—" : `${(v * 100).toFixed(1)}%`;
  const charts = [];
  const chart = (id) => { const c = echarts.init($(id), null, { renderer: "canvas" }); charts.push(c); return c; };
  window.addEventListener("resize", () => charts.forEach((c) => c.resize()));
  const items = (r) => Array.isArray(r) ? r : (r && (r.items || r.rows || r.alerts || r.matters || r.people)) || [];

  // ---- heat map -------------------------------------------------------------------------------------------
  let townships = null, villages = null, metric = "count";
  const mapChart = chart("map");

  async function geo(level) {
    try {
      const r = await api("GET", `/api/analytics/heatmap?level=${level}&${period}`);
      if (r && r.features && r.features.length) { $("map-source").textContent = ""; return r; }
    } catch (e) { /* the analytics API may not be deployed yet: use the dashboard's own counts */ }
    $("map-source").textContent = "(按本页统计)";
    return api("GET", `/dashboard/heat.json?level=${level}&${period}`);
  }

  function drawMap() {
    if (!townships || !townships.features.length) { $("map").replaceChildren(empty("暂无数据")); return; }
    echarts.registerMap("county", townships);
    const tData = townships.features.map((f) => ({ name: f.properties.name, value: f.properties[metric] || 0, code: f.properties.code, props: f.properties }));
    const max = Math.max(1, ...tData.map((d) => d.value));
    const vFeatures = (villages && villages.features || []).filter((f) => f.geometry && f.geometry.type === "Point");
    const vMax = Math.max(1, ...vFeatures.map((f) => f.properties.count || 0));
    const showV = $("show-villages").checked;
    mapChart.setOption({
      backgroundColor: "#f8fafc",
      tooltip: { trigger: "item", formatter: (p) => {
        const pr = p.data && p.data.props; if (!pr) return p.name;
        return `${pr.name}<br>件数 ${pr.count}${pr.rate_per_10k != null ? `<br>万人信访率 ${pr.rate_per_10k}` : ""}`; } },
      visualMap: { min: 0, max, left: 10, bottom: 10, text: ["高", "低"], calculable: true, seriesIndex: 0,
                   inRange: { color: ["#fef9c3", "#fdba74", "#ef4444", "#7f1d1d"] } },
      geo: { map: "county", roam: true, label: { show: true, fontSize: 11, color: "#1f2933" },
             itemStyle: { borderColor: "#64748b", areaColor: "#e2e8f0" }, emphasis: { label: { show: true } } },
      series: [
        { type: "map", geoIndex: 0, data: tData, name: "乡镇" },
        { type: "scatter", coordinateSystem: "geo", name: "村居", symbolSize: (v) => 4 + 14 * Math.sqrt((v[2] || 0) / vMax),
          itemStyle: { color: "#1d4ed8", opacity: 0.75 },
          data: showV ? vFeatures.filter((f) => (f.properties.count || 0) > 0).map((f) => ({ name: f.properties.name, value: [...f.geometry.coordinates, f.properties.count], props: f.properties })) : [] },
      ],
    }, true);
    $("map").dataset.ready = "1";
  }

  function drill(props, level) {
    const box = $("drill");
    const parts = [el("h3", {}, props.name, el("small", {}, ` ${level === "township" ? "乡镇" : "村居"} · ${props.count} 件${props.rate_per_10k != null ? ` · 万人信访率 ${props.rate_per_10k}` : ""}`)),
                   el("p", {}, el("a", { href: `/petitions?division=${encodeURIComponent(props.code)}`, class: "drill-link" }, `查看${props.name}的信访件 →`))];
    if (level === "township" && villages) {
      const vs = villages.features.map((f) => f.properties).filter((p) => p.code.startsWith(props.code) && p.count > 0)
        .sort((a, b) => b.count - a.count).slice(0, 8);
      if (vs.length) parts.push(el("ul", { class: "plain" }, vs.map((v) => el("li", {}, el("a", { href: `/petitions?division=${v.code}` }, v.name), ` ${v.count} 件`))));
    }
    box.replaceChildren(...parts);
  }
  mapChart.on("click", (p) => { if (p.data && p.data.props) drill(p.data.props, p.seriesType === "scatter" ? "village" : "township"); });
  $("show-villages").addEventListener("change", drawMap);
  document.querySelectorAll('input[name="metric"]').forEach((r) => r.addEventListener("change", () => { metric = r.value; drawMap(); }));

  Promise.all([geo("township"), geo("village").catch(() => null)]).then(([t, v]) => { townships = t; villages = v; drawMap(); })
    .catch(() => $("map").replaceChildren(empty("暂无数据")));

  // ---- trend and categories (embedded overview) ----------------------------------------------------------
  if (overview.total) {
    drawTrend();
    const cats = overview.categories.slice(0, 10).reverse();
    chart("categories").setOption({
      tooltip: {}, grid: { left: 110, right: 20, top: 10, bottom: 20 },
      xAxis: { type: "value", minInterval: 1 }, yAxis: { type: "category", data: cats.map((c) => c[0]) },
      series: [{ type: "bar", data: cats.map((c) => c[1]), color: "#2563eb", name: "件数" }],
    });
  } else { $("trend").replaceChildren(empty()); $("categories").replaceChildren(empty()); }

  // Actual months, and beside them the forecast (analytics.forecast.county_outlook): this month's (its actual is
  // only so far) and next month's county total, dashed, with the 90% interval as a band.
  function drawTrend() {
    const months = overview.trend.months.slice(), actual = overview.trend.counts.slice();
    const outlook = (overview.forecast && overview.forecast.months) || [];
    const level = overview.forecast ? Math.round(overview.forecast.interval * 100) : 90;
    const current = outlook.find((f) => f.partial);
    const drawn = current && months[months.length - 1] === current.month;  // the chart reaches this month
    if (drawn) outlook.filter((f) => !f.partial).forEach((f) => { months.push(f.month); actual.push(null); });
    const at = (key) => months.map((m) => { const f = drawn && outlook.find((x) => x.month === m); return f ? key(f) : null; });
    const series = [{ type: "line", smooth: true, areaStyle: { opacity: 0.15 }, data: actual, name: "信访件", color: "#b91c1c" }];
    if (drawn) {
      series.push(
        { type: "line", name: "区间下限", stack: "band", data: at((f) => f.low), symbol: "none", lineStyle: { opacity: 0 }, tooltip: { show: false } },
        { type: "line", name: `${level}%区间`, stack: "band", data: at((f) => f.high - f.low), symbol: "none",
          lineStyle: { opacity: 0 }, areaStyle: { color: "rgba(37,99,235,0.18)" }, color: "#93c5fd" },
        { type: "line", name: "预测", data: at((f) => f.expected), color: "#2563eb", symbol: "diamond", symbolSize: 8,
          lineStyle: { type: "dashed" } });
    }
    const tip = (params) => {
      const m = params[0].axisValue, f = drawn && outlook.find((x) => x.month === m);
      const a = actual[months.indexOf(m)];
      const lines = [m];
      if (a !== null && a !== undefined) lines.push(`实际 ${a} 件${f && f.partial ? "(本月截至今日)" : ""}`);
      if (f) lines.push(`预测 ${f.expected} 件(${level}%区间 ${f.low}–${f.high})`);
      return lines.join("<br>");
    };
    const c = chart("trend");
    c.setOption({
      tooltip: { trigger: "axis", formatter: tip }, grid: { left: 40, right: 16, top: drawn ? 28 : 20, bottom: 30 },
      legend: drawn ? { data: ["信访件", "预测", `${level}%区间`], top: 0, textStyle: { fontSize: 11 } } : undefined,
      xAxis: { type: "category", data: months }, yAxis: { type: "value", minInterval: 1 },
      series,
    });
    if (drawn) $("trend").dataset.forecast = "1";
  }

  // ---- the 三率 --------------------------------------------------------------------------------------------
  api("GET", `/api/accountability?${period}&by=department`).then((r) => {
    const rows = r.rows || [];
    const sum = (k) => rows.reduce((s, x) => s + (x[k] || 0), 0);
    const rate = (a, b) => sum(b) ? sum(a) / sum(b) : null;
    $("kpi-timely").textContent = pct(rate("accept_on_time", "accept_due"));
    $("kpi-ontime").textContent = pct(rate("handle_on_time", "handle_due"));
    $("kpi-satisfied").textContent = pct(rate("satisfied", "evaluated"));
    $("kpi-overdue").textContent = String(sum("overdue"));
    if (!rows.length) { $("units-table").replaceChildren(empty()); return; }
    $("units-table").replaceChildren(el("table", { class: "list compact" },
      el("thead", {}, el("tr", {}, ["单位", "件数", "及时受理率", "按期办结率", "满意率", "超期", "移交", "调解成功", "调解失败", "立案", "退回"].map((h) => el("th", {}, h)))),
      el("tbody", {}, rows.slice(0, 12).map((x) => el("tr", {}, el("td", {}, x.name), el("td", {}, x.petitions),
        el("td", {}, pct(x.timely_acceptance_rate)), el("td", {}, pct(x.on_time_conclusion_rate)),
        el("td", {}, pct(x.satisfaction_rate)), el("td", { class: x.overdue ? "bad" : "" }, x.overdue),
        ...["referred", "referral_mediated", "referral_failed", "referral_filed", "referral_returned"].map((k) => el("td", {}, x[k] ?? 0)))))));
  }).catch(() => { ["kpi-timely", "kpi-ontime", "kpi-satisfied", "kpi-overdue"].forEach((id) => { $(id).textContent = "—"; }); $("units-table").replaceChildren(empty()); });

  // ---- hot matters, key petitioners -----------------------------------------------------------------------
  const label = (x) => x.label || x.title || x.name || x.term || x.topic || x.key || "";
  const count = (x) => x.count ?? x.size ?? x.petitions ?? x.total ?? x.n ?? "";
  api("GET", `/api/analytics/hot-matters?${period}`).then((r) => {
    const list = items(r);
    if (!list.length) { $("hot").replaceChildren(empty()); return; }
    $("hot").replaceChildren(el("ol", { class: "ranked" }, list.slice(0, 8).map((x) => el("li", {}, el("span", {}, label(x)), el("b", {}, count(x))))));
  }).catch(() => $("hot").replaceChildren(empty("暂无数据")));
  api("GET", `/api/analytics/key-petitioners?${period}`).then((r) => {
    const list = items(r);
    if (!list.length) { $("key-people").replaceChildren(empty()); return; }
    $("key-people").replaceChildren(el("ol", { class: "ranked" }, list.slice(0, 8).map((x) => el("li", {}, el("span", {}, label(x) || x.masked_name || ""), el("b", {}, count(x))))));
  }).catch(() => $("key-people").replaceChildren(empty("暂无数据")));

  // ---- alerts ---------------------------------------------------------------------------------------------
  async function loadAlerts() {
    let list;
    try { list = items(await api("GET", "/api/alerts")); } catch (e) { $("alerts").replaceChildren(empty("暂无数据")); return; }
    if (!list.length) { $("alerts").replaceChildren(empty("暂无预警")); return; }
    $("alerts").replaceChildren(el("ul", { class: "alerts" }, list.slice(0, 10).map((a) => {
      const status = a.status || "open";
      const act = (what) => async () => {
        let body = {};
        if (what === "resolve") {  // the service requires what was done, as the /alerts page's form does
          const note = window.prompt("处置情况(必填):写明采取的措施");
          if (note === null) return;
          if (!note.trim()) { window.alert("处置预警需填写处置情况"); return; }
          body = { note: note.trim() };
        }
        try { await api("POST", `/api/alerts/${a.id}/${what}`, body); loadAlerts(); } catch (e) { window.alert(e.message); }
      };
      const statusLabel = { open: "待处理", new: "待处理", acknowledged: "已确认", resolved: "已处置" }[status] || status;
      const tier = a.tier || a.level || a.severity || "";
      const facts = [a.category, a.signal_days ? `持续 ${a.signal_days} 天` : null,
                     a.petition_ids ? `涉及 ${a.petition_ids.length} 件` : null].filter(Boolean).join(" · ");
      return el("li", { class: `alert lv-${tier} st-${status}`, "data-id": a.id },
        el("div", {}, el("strong", {}, a.title || a.kind || "预警"), " ",
          el("span", { class: `tag tier-${tier}` }, tier === "red" ? "红色" : tier === "yellow" ? "黄色" : tier), " ",
          el("small", { class: "alert-status" }, statusLabel)),
        el("p", {}, a.message || a.summary || facts,
          a.township_code ? el("a", { href: `/petitions?division=${encodeURIComponent(a.township_code)}`, class: "alert-drill" }, " 查看信访件 →") : ""),
        el("div", { class: "alert-actions" },
          status === "open" || status === "new" ? el("button", { class: "small ack", onclick: act("acknowledge") }, "确认") : null,
          status !== "resolved" ? el("button", { class: "small resolve secondary", onclick: act("resolve") }, "处置完毕") : null));
    })));
  }
  loadAlerts();
})();
