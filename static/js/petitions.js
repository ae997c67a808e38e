/* Petitions: live countdowns for the 7135 clock, and the stats chart (ECharts). No framework. */
(function () {
  "use strict";
  var t = window.gettext || function (text) { return text; };
  var SOON_MS = 60 * 60 * 1000;

  function pad(number) { return number < 10 ? "0" + number : String(number); }

  function describe(milliseconds) {
    var seconds = Math.floor(Math.abs(milliseconds) / 1000);
    var days = Math.floor(seconds / 86400);
    var rest = seconds % 86400;
    var clock = pad(Math.floor(rest / 3600)) + ":" + pad(Math.floor((rest % 3600) / 60)) + ":" + pad(rest % 60);
    return days > 0 ? days + t("天") + " " + clock : clock;
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll(".countdown[data-deadline]").forEach(function (element) {
      var deadline = Date.parse(element.getAttribute("data-deadline"));
      if (isNaN(deadline)) { return; }
      var left = deadline - now;
      element.textContent = left >= 0 ? t("剩余") + " " + describe(left) : t("已超时") + " " + describe(left);
      element.classList.toggle("late", left < 0);
      element.classList.toggle("soon", left >= 0 && left < SOON_MS);
    });
  }

  function percentTooltip(series) {
    return function (params) {
      var lines = [params.length ? params[0].axisValue : ""];
      params.forEach(function (point) {
        var sample = series[point.seriesIndex].samples[point.dataIndex];
        var value = point.value === null || point.value === undefined ? "—" : point.value + "%";
        lines.push(point.marker + point.seriesName + "：" + value + "（n=" + sample + "）");
      });
      return lines.join("<br>");
    };
  }

  function drawChart() {
    var holder = document.getElementById("rates-chart");
    var feed = document.getElementById("rates-data");
    if (!holder || !feed || !window.echarts) { return; }
    var data = JSON.parse(feed.textContent);
    var chart = window.echarts.init(holder);
    chart.setOption({
      tooltip: { trigger: "axis", formatter: percentTooltip(data.series) },
      legend: { type: "scroll", top: 0 },
      grid: { left: 40, right: 16, top: 48, bottom: 32 },
      xAxis: { type: "category", data: data.periods },
      yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
      series: data.series.map(function (item) {
        return { name: item.name, type: "line", data: item.data, connectNulls: false };
      })
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    window.setInterval(tick, 1000);
    drawChart();
  });
  document.addEventListener("htmx:afterSwap", tick);
})();
