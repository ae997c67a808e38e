// Satisfaction rate by quarter, one line per compound (ECharts, vendored). The x axis is time:
// every quarter from the first answered to the last is placed by its date, and a quarter with no
// answers from a compound is a gap in its line (not a point moved next to its neighbours).
(function () {
  var element = document.getElementById("satisfaction-chart");
  var feed = document.getElementById("satisfaction-data");
  if (!element || !feed || !window.echarts) { return; }
  var data = JSON.parse(feed.textContent);
  if (!data.length) { return; }
  function index(row) { return row.year * 4 + row.quarter - 1; }
  function quarterStart(position) {
    var year = Math.floor(position / 4), month = (position % 4) * 3 + 1;
    return year + "-" + (month < 10 ? "0" : "") + month + "-01";
  }
  function quarterLabel(time) {
    var day = new Date(time);
    return day.getFullYear() + "Q" + (Math.floor(day.getMonth() / 3) + 1);
  }
  var positions = data.map(index);
  var first = Math.min.apply(null, positions), last = Math.max.apply(null, positions);
  var compounds = Array.from(new Set(data.map(function (row) { return row.compound; })));
  var series = compounds.map(function (name) {
    var points = [];
    for (var position = first; position <= last; position += 1) {
      var row = data.find(function (r) { return r.compound === name && index(r) === position; });
      points.push([quarterStart(position), row ? row.rate : null]);
    }
    return {
      name: name, type: "line", connectNulls: false, showSymbol: true,
      label: { show: true, formatter: function (point) { return point.value[1] + "%"; } },
      data: points
    };
  });
  var chart = window.echarts.init(element);
  chart.setOption({
    tooltip: {
      trigger: "axis",
      formatter: function (params) {
        var lines = [params.length ? quarterLabel(params[0].value[0]) : ""];
        params.forEach(function (point) {
          var rate = point.value[1];
          // The tooltip is HTML and a series is a compound's name: escape it.
          lines.push(point.marker + window.echarts.format.encodeHTML(point.seriesName) + "："
                     + (rate === null ? "—" : rate + "%"));
        });
        return lines.join("<br>");
      }
    },
    legend: { top: 0 },
    xAxis: {
      type: "time", minInterval: 90 * 24 * 3600 * 1000,
      axisLabel: { formatter: quarterLabel, hideOverlap: true }
    },
    yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
    series: series
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
