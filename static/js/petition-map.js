// The one map (一张图): petitions by building, drawn with the vendored Leaflet into every
// element `[data-petition-map]` from the GeoJSON at its `data-src` (reports:map-data).
// Optional: `data-tile-url` / `data-tile-attribution` lay a tile server under the outlines
// (nothing is fetched from elsewhere without one); `data-refresh="60"` fetches and redraws every
// 60 s (the big screen); `data-table="hidden"` keeps the buildings'
// table for screen readers only. Each building is coloured by its count (the legend says how),
// opens its list when clicked or, focused with the keyboard, on Enter; the table below the map
// is its text alternative. Needs leaflet.js before it and, for English, the jsi18n catalogue.
(function () {
  "use strict";
  var t = window.gettext || function (text) { return text; };
  // Sequential fills with a dark outline (3:1 against the light background and the fills).
  var FILLS = ["#f1f3f5", "#fdd49e", "#fc8d59", "#d7301f", "#7f0000"];
  var STROKE = "#333333";
  var RADII = [5, 7, 9, 11, 13];

  function thresholds(max) {
    // Class 0 is "none"; the others start at 1 and at a quarter, a half and three quarters of
    // the largest count (fewer classes when the counts are small).
    var starts = [1];
    [0.25, 0.5, 0.75].forEach(function (share) {
      var start = Math.ceil(max * share);
      if (start > starts[starts.length - 1]) { starts.push(start); }
    });
    return starts;
  }

  function classOf(total, starts) {
    var level = 0;
    starts.forEach(function (start, index) { if (total >= start) { level = index + 1; } });
    return level;
  }

  function element(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) { node.setAttribute(name, attributes[name]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function summary(properties) {
    var parts = [properties.name, t("诉求") + " " + properties.total, t("办理中") + " " + properties.open];
    var top = properties.by_category.slice(0, 3).map(function (item) { return item.name + " " + item.count; });
    if (top.length) { parts.push(top.join("、")); }
    return parts.join(" · ");
  }

  function legend(starts, max) {
    var box = element("div", { "class": "petition-map-legend" });
    box.appendChild(element("span", { "class": "petition-map-legend-title" }, t("诉求数")));
    var bounds = [[0, 0]];
    starts.forEach(function (start, index) {
      var end = index + 1 < starts.length ? starts[index + 1] - 1 : max;
      bounds.push([start, end]);
    });
    bounds.forEach(function (range, level) {
      var item = element("span", { "class": "petition-map-legend-item" });
      var swatch = element("span", { "class": "petition-map-swatch", "aria-hidden": "true" });
      swatch.style.backgroundColor = FILLS[level];
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(range[0] === range[1] ? String(range[0]) : range[0] + "–" + range[1]));
      box.appendChild(item);
    });
    return box;
  }

  function table(buildings, hidden) {
    var wrapper = element("div", { "class": hidden ? "visually-hidden" : "table-scroll" });
    var grid = element("table", { "class": "list petition-map-table" });
    grid.appendChild(element("caption", {}, t("各楼栋诉求数")));
    var head = element("tr");
    [[t("楼栋"), ""], [t("诉求数"), "num"], [t("办理中"), "num"], [t("主要分类"), ""]].forEach(function (column) {
      head.appendChild(element("th", { scope: "col", "class": column[1] }, column[0]));
    });
    grid.appendChild(element("thead")).appendChild(head);
    var body = grid.appendChild(element("tbody"));
    buildings.forEach(function (properties) {
      var row = body.appendChild(element("tr"));
      var name = row.appendChild(element("th", { scope: "row" }));
      name.appendChild(element("a", { href: properties.list_url }, properties.name));
      row.appendChild(element("td", { "class": "num" }, String(properties.total)));
      row.appendChild(element("td", { "class": "num" }, String(properties.open)));
      row.appendChild(element("td", {}, properties.by_category.slice(0, 3)
        .map(function (item) { return item.name + " " + item.count; }).join("、")));
    });
    wrapper.appendChild(grid);
    return wrapper;
  }

  function makeFocusable(layer, properties) {
    // An SVG path is no link: give it a role, a name and Enter, so the keyboard reaches it.
    var path = layer.getElement && layer.getElement();
    if (!path) { return; }
    path.setAttribute("tabindex", "0");
    path.setAttribute("role", "link");
    path.setAttribute("aria-label", summary(properties));
    path.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { window.location.assign(properties.list_url); }
    });
  }

  function makeMap(container, canvas) {
    var L = window.L;
    var tileUrl = container.getAttribute("data-tile-url");
    var map = L.map(canvas, { attributionControl: Boolean(tileUrl), zoomControl: false, zoomSnap: 0.25 });
    L.control.zoom({ zoomInTitle: t("放大"), zoomOutTitle: t("缩小") }).addTo(map);
    if (tileUrl) {
      map.attributionControl.setPrefix(false);
      L.tileLayer(tileUrl, { maxZoom: 19, attribution: container.getAttribute("data-tile-attribution") || "" }).addTo(map);
    }
    return map;
  }

  // Draws `data` on the container's map; a redraw (data-refresh) replaces the layers, the
  // legend and the table, and keeps the view the first drawing fitted.
  function draw(container, canvas, data) {
    var L = window.L;
    var state = container.petitionMap || (container.petitionMap = { map: makeMap(container, canvas) });
    var map = state.map;
    var features = data.features || [];
    var buildings = features.filter(function (feature) { return feature.properties.kind === "building"; });
    var max = buildings.reduce(function (most, feature) { return Math.max(most, feature.properties.total); }, 0);
    var starts = thresholds(max);
    var located = features.filter(function (feature) { return feature.geometry; });
    var layers = L.geoJSON({ type: "FeatureCollection", features: located }, {
      style: function (feature) {
        if (feature.properties.kind === "compound") {
          return { color: "#44546a", weight: 2, dashArray: "6 4", fillColor: "#e8edf3", fillOpacity: 0.5 };
        }
        var level = classOf(feature.properties.total, starts);
        return { color: STROKE, weight: 1.5, fillColor: FILLS[level], fillOpacity: 0.9 };
      },
      pointToLayer: function (feature, latlng) {
        var level = classOf(feature.properties.total, starts);
        return L.circleMarker(latlng, { radius: RADII[level], interactive: feature.properties.kind === "building" });
      },
      onEachFeature: function (feature, layer) {
        var properties = feature.properties;
        if (properties.kind !== "building") {
          // Text nodes, never HTML strings: the names come from the admin.
          layer.bindTooltip(element("span", {}, properties.name + " · " + t("诉求") + " " + properties.total), { sticky: true });
          return;
        }
        layer.bindTooltip(element("span", {}, summary(properties)), { sticky: true });
        layer.on("click", function () { window.location.assign(properties.list_url); });
        layer.on("add", function () { makeFocusable(layer, properties); });
      }
    });
    if (state.layers) { map.removeLayer(state.layers); }
    layers.addTo(map);
    if (!state.layers) {
      var bounds = layers.getBounds();
      if (bounds.isValid()) { map.fitBounds(bounds, { padding: [16, 16] }); } else { map.setView([35.9676, 120.1865], 16); }
    }
    state.layers = layers;
    [state.legend, state.table].forEach(function (old) { if (old) { old.remove(); } });
    state.legend = legend(starts, max);
    state.table = table(buildings.map(function (feature) { return feature.properties; }),
      container.getAttribute("data-table") === "hidden");
    container.appendChild(state.legend);
    container.appendChild(state.table);
    container.setAttribute("data-ready", "true");
  }

  function fail(container, message) {
    container.appendChild(element("p", { "class": "msg-error", role: "alert" }, message));
    container.setAttribute("data-ready", "error");
  }

  function load(container, canvas, first) {
    fetch(container.getAttribute("data-src"), { credentials: "same-origin", headers: { Accept: "application/geo+json, application/json" } })
      .then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      })
      .then(function (result) {
        if (result.ok) { draw(container, canvas, result.body); } else if (first) { fail(container, result.body.message || t("地图数据加载失败。")); }
      })
      // A failed refresh keeps the last drawing (the big screen shows its own stale notice).
      .catch(function () { if (first) { fail(container, t("地图数据加载失败。")); } });
  }

  function init(container) {
    if (container.getAttribute("data-ready")) { return; }
    var canvas = element("div", { "class": "petition-map-canvas", role: "region", "aria-label": t("诉求分布地图") });
    container.appendChild(canvas);
    if (!window.L) { fail(container, t("地图组件未能加载。")); return; }
    load(container, canvas, true);
    var every = parseInt(container.getAttribute("data-refresh"), 10);
    if (every > 0) { setInterval(function () { load(container, canvas, false); }, every * 1000); }
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-petition-map]"), init);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
}());
