// The big screen (templates/reports/screen.html): the clock, the 全屏 button, and the figures
// refreshed from the page's data-src once a minute (the server caches them for the minute). A
// failed refresh (network, an error status, a sign-in page instead of JSON) keeps the last
// figures on the wall and shows the stale notice; the next success hides it. Text only
// (textContent): nothing from the data is read as HTML.
(function () {
  var root = document.getElementById("screen");
  if (!root) { return; }
  var source = root.getAttribute("data-src");
  var every = (parseInt(root.getAttribute("data-refresh"), 10) || 60) * 1000;
  var stale = document.getElementById("screen-stale");
  var clock = document.getElementById("screen-clock");

  function two(number) { return (number < 10 ? "0" : "") + number; }
  // The street's time (data-time-zone, the server's TIME_ZONE), as 更新于 is, whatever zone
  // the screen's computer is set to.
  var zone = clock.getAttribute("data-time-zone");
  var format = null;
  try {
    format = new Intl.DateTimeFormat("en-GB", { timeZone: zone || undefined, hour: "2-digit",
      minute: "2-digit", second: "2-digit", hourCycle: "h23" });
  } catch (error) { format = null; }
  function tick() {
    var now = new Date();
    clock.textContent = format ? format.format(now)
      : two(now.getHours()) + ":" + two(now.getMinutes()) + ":" + two(now.getSeconds());
  }

  function setField(name, value) {
    document.querySelectorAll('[data-field="' + name + '"]').forEach(function (element) {
      element.textContent = value === null || value === undefined ? "" : String(value);
    });
  }

  function item(parts, className) {
    var li = document.createElement("li");
    if (className) { li.className = className; }
    parts.forEach(function (part, index) {
      if (index) { li.appendChild(document.createTextNode(" ")); }
      var span = document.createElement(part[0]);
      if (part[2]) { span.className = part[2]; }
      span.textContent = String(part[1]);
      li.appendChild(span);
    });
    return li;
  }

  function fillList(name, rows, parts) {
    var list = document.querySelector('[data-list="' + name + '"]');
    if (!list) { return; }
    var items = rows.length ? rows.map(function (row) { return item(parts(row)); })
      : [item([["span", list.getAttribute("data-empty") || ""]], "muted")];
    list.replaceChildren.apply(list, items);
  }

  function render(data) {
    setField("as_of", data.as_of);
    setField("today.total", data.today.total);
    setField("open.total", data.open.total);
    setField("open.overdue", data.open.overdue);
    setField("open.supervised", data.open.supervised);
    data.open.tiers.forEach(function (tier) { setField("open.tier." + tier.key, tier.count); });
    setField("month.label", data.month.label);
    setField("month.submitted", data.month.submitted);
    data.month.rates.forEach(function (rate) {
      setField("rate." + rate.key + ".text", rate.text);
      setField("rate." + rate.key + ".sample", rate.sample);
      var bar = document.querySelector('[data-bar="' + rate.key + '"]');
      if (bar) { bar.style.width = (rate.percent === null ? 0 : rate.percent) + "%"; }
    });
    fillList("channels", data.today.channels, function (row) {
      return [["span", row.label], ["b", row.count]];
    });
    setField("ranking.median", data.ranking.median);
    setField("ranking.apart", data.ranking.apart);
    setField("ranking.excluded", data.ranking.excluded);
    fillList("ranking", data.ranking.rows, function (row) {
      return [["span", row.rank, "rank"], ["span", row.name, "name"], ["b", row.text, "rate"],
              ["span", "n=" + row.sample, "sample"]];
    });
    fillList("newest", data.newest, function (row) {
      return [["span", "#" + row.id, "no"], ["span", row.time, "time"],
              ["span", row.category, "category"], ["span", row.place, "place"],
              ["span", row.tier, "tier"], ["span", row.state, "state"],
              ["span", row.excerpt, "excerpt"]];
    });
  }

  function refresh() {
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, 20000) : null;
    fetch(source, {credentials: "same-origin", cache: "no-store", redirect: "error",
                   headers: {"Accept": "application/json"},
                   signal: controller ? controller.signal : undefined})
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (!response.ok || type.indexOf("application/json") === -1) {
          throw new Error("screen data: " + response.status);
        }
        return response.json();
      })
      .then(function (data) { render(data); stale.hidden = true; })
      .catch(function () {
        // The last figures stay; the notice's time is the figures' own (data-field as_of).
        stale.hidden = false;
      })
      .finally(function () { if (timer) { clearTimeout(timer); } });
  }

  var full = document.getElementById("screen-fullscreen");
  if (full && document.fullscreenEnabled) {
    full.hidden = false;
    full.addEventListener("click", function () {
      if (document.fullscreenElement) { document.exitFullscreen(); }
      else { document.documentElement.requestFullscreen(); }
    });
    document.addEventListener("fullscreenchange", function () {
      full.textContent = full.getAttribute(document.fullscreenElement ? "data-leave"
                                                                      : "data-enter");
    });
  }

  tick();
  setInterval(tick, 1000);
  setInterval(refresh, every);
})();
