/* The workbench: on a phone the tab strip scrolls sideways; bring the open tab into view. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var strip = document.querySelector(".wb-tabs");
    var active = strip && strip.querySelector("a.active");
    if (!active || strip.scrollWidth <= strip.clientWidth) { return; }
    strip.scrollLeft = active.offsetLeft - strip.offsetLeft - (strip.clientWidth - active.offsetWidth) / 2;
  });
})();
