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

  // Each point is [the period's first day, the rate or null]: on the time axis a period without
  // a sample is a gap in the line, never a point at 0 % or a neighbour moved next to another.
  function percentTooltip(data) {
    return function (params) {
      var lines = [params.length ? data.periods[params[0].dataIndex] : ""];
      params.forEach(function (point) {
        var sample = data.series[point.seriesIndex].samples[point.dataIndex];
        var rate = point.value ? point.value[1] : null;
        var value = rate === null || rate === undefined ? "—" : rate + "%";
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
    var isWeek = data.by !== "month";
    var DAY = 24 * 3600 * 1000;
    // A tick and a label on every period's first day, and half a period of room at each end so
    // the first and the last point are not drawn on the frame.
    var times = data.periods.map(function (period) { return window.echarts.time.parse(period).getTime(); });
    var margin = (isWeek ? 3.5 : 15) * DAY;
    chart.setOption({
      tooltip: { trigger: "axis", formatter: percentTooltip(data) },
      legend: { type: "scroll", top: 0 },
      grid: { left: 40, right: 24, top: 48, bottom: 32 },
      xAxis: {
        type: "time",
        min: times.length ? times[0] - margin : null,
        max: times.length ? times[times.length - 1] + margin : null,
        axisTick: { customValues: times },
        axisLabel: { customValues: times, formatter: isWeek ? "{MM}-{dd}" : "{yyyy}-{MM}",
                     hideOverlap: true }
      },
      yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
      series: data.series.map(function (item) {
        return {
          name: item.name, type: "line", connectNulls: false, showSymbol: true, symbolSize: 6,
          data: item.data.map(function (value, index) { return [data.periods[index], value]; })
        };
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
