/* 考评监督看板: fetches the figures from the JSON URL in #oversight[data-url] (the same figures as the page's
   tables; the CSP forbids inline scripts) and draws the charts. Every chart has a table beside it, so the page
   says the same without JavaScript or ECharts. */
(function () {
  "use strict";
  var RED = "#c8102e", GOLD = "#d4a017", BLUE = "#2f6fb3", GREEN = "#2e8b57", GREY = "#8a8f98";
  var PALETTE = [RED, BLUE, GOLD, GREEN, "#7b4fa0", "#d2691e", GREY, "#1f8a8a"];

  function draw(id, option, charts) {
    var el = document.getElementById(id);
    if (!el) { return; }
    var chart = window.echarts.init(el);
    var base = { color: PALETTE, grid: { left: 44, right: 24, top: 36, bottom: 28 },
                 tooltip: { trigger: "axis" }, legend: { top: 0, type: "scroll" } };
    chart.setOption(Object.assign(base, option));
    charts.push(chart);
  }

  function short(text, n) { return text && text.length > n ? text.slice(0, n) + "…" : text; }

  function render(f, L) {
    var charts = [];
    var pr = f.progress;
    draw("chart-progress", {
      grid: { left: 44, right: 16, top: 36, bottom: 60 },
      xAxis: { type: "category", data: pr.children.map(function (c) { return short(c.name, 8); }),
               axisLabel: { interval: 0, rotate: 30, fontSize: 10 } },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: L.total, type: "bar", barGap: "-100%", itemStyle: { color: "#e9ecef" }, data: pr.children.map(function (c) { return c.total; }) },
        { name: L.assessed, type: "bar", itemStyle: { color: GREEN }, data: pr.children.map(function (c) { return c.assessed; }) },
        { name: L.overdue, type: "line", itemStyle: { color: RED }, data: pr.children.map(function (c) { return c.overdue; }) }
      ]
    }, charts);
    var d = f.distribution;
    draw("chart-distribution", {
      legend: { show: false },
      xAxis: { type: "category", name: "%", data: d.bins.map(function (b) { return b.label; }), axisLabel: { fontSize: 10 } },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ name: L.count, type: "bar", barCategoryGap: "4%", itemStyle: { color: RED },
                 data: d.bins.map(function (b) { return b.count; }) }]
    }, charts);
    draw("chart-trend", {
      xAxis: { type: "category", data: f.trend.months },
      yAxis: { type: "value", scale: true, max: 100, axisLabel: { formatter: "{value}%" } },
      series: f.trend.groups.map(function (g) {
        return { name: g.label, type: "line", connectNulls: true, data: g.values };
      })
    }, charts);
    draw("chart-ranking", {
      legend: { show: false }, grid: { left: 8, right: 24, top: 12, bottom: 24, containLabel: true },
      xAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
      yAxis: { type: "category", inverse: true, data: f.ranking.map(function (g) { return short(g.label, 12); }) },
      series: [{ name: L.mean, type: "bar", barMaxWidth: 24, itemStyle: { color: GOLD },
                 data: f.ranking.map(function (g) { return g.mean; }) }]
    }, charts);
    var w = f.weakest;
    draw("chart-heatmap", {
      tooltip: { trigger: "item", formatter: function (p) {
        return w.orgs[p.value[0]].name + "<br>" + w.items[p.value[1]].code + "：" + p.value[2] + "%"; } },
      legend: { show: false }, grid: { left: 8, right: 16, top: 40, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: w.orgs.map(function (o) { return short(o.name, 8); }),
               axisLabel: { interval: 0, rotate: 45, fontSize: 10 }, splitArea: { show: true } },
      yAxis: { type: "category", inverse: true, data: w.items.map(function (i) { return i.code; }), splitArea: { show: true } },
      visualMap: { min: 0, max: 100, calculable: true, orient: "horizontal", right: 0, top: 0,
                   itemHeight: 120, inRange: { color: [RED, GOLD, "#f4f7f4"] } },
      series: [{ name: L.rate, type: "heatmap", data: w.cells, label: { show: false } }]
    }, charts);
    var inf = f.inflation, top = inf.rows.slice(0, 15);
    draw("chart-inflation", {
      legend: { show: false }, grid: { left: 8, right: 24, top: 12, bottom: 24, containLabel: true },
      xAxis: { type: "value", axisLabel: { formatter: "{value}%" } },
      yAxis: { type: "category", inverse: true, data: top.map(function (r) { return short(r.name, 7); }) },
      series: [{ name: L.gap, type: "bar", barMaxWidth: 20,
                 data: top.map(function (r) { return { value: r.gap_pp, itemStyle: { color: r.flagged ? RED : GREY } }; }),
                 markLine: { symbol: "none", lineStyle: { color: RED, type: "dashed" }, data: [{ xAxis: inf.threshold }] } }]
    }, charts);
    var a = f.assessors;
    var lim = Math.ceil(a.rows.reduce(function (m, r) { return Math.max(m, Math.abs(r.residual)); }, a.threshold) + 1);
    draw("chart-assessors", {
      legend: { show: false }, grid: { left: 8, right: 24, top: 12, bottom: 24, containLabel: true },
      xAxis: { type: "value", min: -lim, max: lim },
      yAxis: { type: "category", inverse: true, data: a.rows.map(function (r) { return short(r.name, 6); }) },
      series: [{ name: L.residual, type: "bar", barMaxWidth: 20,
                 data: a.rows.map(function (r) {
                   var c = r.flag === "lenient" ? GOLD : (r.flag === "strict" ? BLUE : GREY);
                   return { value: r.residual, itemStyle: { color: c } }; }),
                 markLine: { symbol: "none", lineStyle: { color: RED, type: "dashed" },
                             data: [{ xAxis: a.threshold }, { xAxis: -a.threshold }] } }]
    }, charts);
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  }

  function init() {
    var holder = document.getElementById("oversight");
    if (!holder || typeof window.echarts === "undefined" || !window.fetch) { return; }
    window.fetch(holder.getAttribute("data-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data && data.figures) { render(data.figures, data.labels); } })
      .catch(function () { /* the tables stay: they say the same */ });
  }

  document.addEventListener("DOMContentLoaded", init);
})();
