// The project page's indicator charts: one ECharts line per indicator, with its target as a dashed line.
// Data come from the page's json_script (no inline script: the CSP forbids it).
(function () {
  "use strict";

  function initCharts() {
    var data = document.getElementById("indicator-data");
    if (!data || typeof window.echarts === "undefined") { return; }
    var rows = JSON.parse(data.textContent);
    var charts = [];
    rows.forEach(function (r) {
      var el = document.getElementById("indicator-chart-" + r.id);
      if (!el) { return; }
      var chart = window.echarts.init(el);
      var series = [{ name: el.dataset.valueLabel, type: "line", data: r.values, itemStyle: { color: "#c8102e" },
                      label: { show: r.values.length <= 12 }, markLine: undefined }];
      if (r.target !== null) {
        series.push({ name: el.dataset.targetLabel, type: "line", data: r.dates.map(function () { return r.target; }),
                      lineStyle: { type: "dashed", color: "#198754" }, itemStyle: { color: "#198754" },
                      symbol: "none" });
      }
      chart.setOption({
        grid: { left: 56, right: 16, top: 32, bottom: 32 },
        legend: { top: 0 },
        tooltip: { trigger: "axis" },
        xAxis: { type: "category", data: r.dates },
        yAxis: { type: "value", scale: true, name: r.unit },
        series: series
      });
      charts.push(chart);
    });
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  }

  document.addEventListener("DOMContentLoaded", initCharts);
})();
