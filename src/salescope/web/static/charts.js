/* Salescope charts: draws the overview's ECharts from the JSON block the server embeds.
   No inline script or handlers, so the page runs under a strict script-src 'self' policy. */
(function () {
  "use strict";

  var ZH_UNITS = [[1e12, "万亿"], [1e8, "亿"], [1e4, "万"]];
  var EN_UNITS = [[1e12, "T"], [1e9, "B"], [1e6, "M"], [1e3, "K"]];

  function compact(value, locale) {
    var units = locale === "en" ? EN_UNITS : ZH_UNITS;
    var sign = value < 0 ? "-" : "";
    var abs = Math.abs(value);
    for (var i = 0; i < units.length; i++) {
      if (abs >= units[i][0]) {
        var scaled = abs / units[i][0];
        return sign + "¥" + (scaled >= 100 ? scaled.toFixed(0) : scaled.toFixed(1)).replace(/\.0$/, "") + units[i][1];
      }
    }
    return sign + "¥" + abs.toLocaleString("en-US", { maximumFractionDigits: 0 });
  }

  function money(value) {
    var sign = value < 0 ? "-" : "";
    return sign + "¥" + Math.abs(value).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }

  function markDrawn(chart, element) {
    chart.on("finished", function () { element.setAttribute("data-drawn", "true"); });
  }

  function revenueChart(element, data) {
    var chart = window.echarts.init(element, null, { renderer: "canvas" });
    chart.setOption({
      color: ["#2f6fb2"],
      grid: { left: 64, right: 24, top: 24, bottom: 40 },
      tooltip: {
        trigger: "axis",
        valueFormatter: function (v) { return money(v); }
      },
      xAxis: { type: "category", data: data.months.map(function (m) { return m.month; }) },
      yAxis: { type: "value", axisLabel: { formatter: function (v) { return compact(v, data.locale); } } },
      series: [{
        name: data.labels.revenue,
        type: "line",
        symbolSize: 6,
        areaStyle: { opacity: 0.12 },
        data: data.months.map(function (m) { return m.revenue; })
      }]
    });
    markDrawn(chart, element);
    return chart;
  }

  function segmentChart(element, data) {
    var chart = window.echarts.init(element, null, { renderer: "canvas" });
    chart.setOption({
      tooltip: { trigger: "item", formatter: "{b}: {c} ({d}%)" },
      legend: { type: "scroll", bottom: 0, itemWidth: 12, itemHeight: 12 },
      series: [{
        name: data.labels.customers,
        type: "pie",
        radius: ["38%", "68%"],
        center: ["50%", "42%"],
        label: { show: false, position: "center" },
        emphasis: { label: { show: true, fontWeight: "bold", formatter: "{b}\n{d}%" } },
        data: data.segments.map(function (s) { return { name: s.name, value: s.value, segment: s.segment }; })
      }]
    });
    chart.on("click", function (params) {
      if (params.data && params.data.segment) {
        window.location.href = data.customers_url + encodeURIComponent(params.data.segment);
      }
    });
    markDrawn(chart, element);
    return chart;
  }

  function init() {
    var source = document.getElementById("overview-data");
    if (!source || !window.echarts) { return; }
    var data = JSON.parse(source.textContent);
    var charts = [];
    var line = document.getElementById("chart-revenue");
    if (line && data.months.length) { charts.push(revenueChart(line, data)); }
    var pie = document.getElementById("chart-segments");
    if (pie && data.segments.length) { charts.push(segmentChart(pie, data)); }
    window.addEventListener("resize", function () {
      charts.forEach(function (c) { c.resize(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
