// Satisfaction rate by quarter, one line per compound (ECharts, vendored).
(function () {
  var element = document.getElementById("satisfaction-chart");
  var data = JSON.parse(document.getElementById("satisfaction-data").textContent);
  if (!element || !window.echarts || !data.length) { return; }
  var labels = Array.from(new Set(data.map(function (row) { return row.label; }))).sort();
  var compounds = Array.from(new Set(data.map(function (row) { return row.compound; })));
  var series = compounds.map(function (name) {
    return {
      name: name, type: "line", smooth: true, label: { show: true, formatter: "{c}%" },
      data: labels.map(function (label) {
        var row = data.find(function (r) { return r.compound === name && r.label === label; });
        return row ? row.rate : null;
      })
    };
  });
  var chart = window.echarts.init(element);
  chart.setOption({
    tooltip: { trigger: "axis" }, legend: { top: 0 },
    xAxis: { type: "category", data: labels },
    yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
    series: series
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
