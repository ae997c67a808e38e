// 显示: a button next to a masked phone or ID number asks the server for the whole value (the
// server checks the viewer's scope and writes an audit row), then shows it in place.
(function () {
  "use strict";
  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-reveal-url]");
    if (!button) { return; }
    event.preventDefault();
    fetch(button.getAttribute("data-reveal-url"), {
      method: "POST", credentials: "same-origin",
      headers: {"X-CSRFToken": csrfToken(), "Accept": "application/json"},
    }).then(function (response) {
      return response.ok ? response.json() : Promise.reject(response.status);
    }).then(function (body) {
      var shown = button.previousElementSibling;
      if (shown) { shown.textContent = body.value; }
      button.remove();
    }).catch(function () { button.disabled = true; });
  });
})();
