/* WeChat's JS-SDK where it helps (issue 19). Loaded only in WeChat's browser, after WeChat's own
   jweixin-1.6.0.js if the operator placed it under static/vendor/ (accounts.context_processors).
   Without `wx`, or when wx.config fails, nothing happens: the plain form stays as it is.

   - [data-wechat-location]: wx.getLocation (GCJ-02, like territory.geo) fills the form's
     latitude and longitude, and placement finds the building from them;
   - [data-wechat-photo]: wx.chooseImage (拍照/相册) + wx.uploadImage, then the server fetches
     the photo from WeChat (petitions:wechat-photo) and holds it like an upload; the form
     sends its token as a held photo. */
(function () {
  "use strict";
  var t = window.gettext || function (text) { return text; };
  var loader = document.getElementById("wechat-sdk");
  if (!loader || typeof window.wx === "undefined") { return; }
  var wx = window.wx;

  function status(form, text) {
    var element = form.querySelector("[data-wechat-status]");
    if (element) { element.textContent = text; element.hidden = false; }
  }

  function useLocation(button) {
    var form = button.form;
    wx.getLocation({
      type: "gcj02",
      success: function (place) {
        form.querySelector("[name=latitude]").value = Number(place.latitude).toFixed(6);
        form.querySelector("[name=longitude]").value = Number(place.longitude).toFixed(6);
        status(form, t("已获取您的位置，提交后将据此匹配楼栋。"));
        document.body.dispatchEvent(new Event("location-changed"));
      },
      fail: function () { status(form, t("未能获取位置，请手动选择楼栋或填写位置。")); }
    });
  }

  function holdPhoto(form, url, serverId) {
    var body = new FormData();
    body.append("media_id", serverId);
    body.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
    return fetch(url, { method: "POST", body: body, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (answer) {
        if (!answer.token) { status(form, answer.detail || t("照片无法获取。")); return; }
        var list = form.querySelector("[data-wechat-photos]");
        var label = document.createElement("label");
        label.className = "held-photo";
        var image = document.createElement("img");
        image.src = answer.thumbnail;
        image.alt = t("已上传的照片");
        var box = document.createElement("input");
        box.type = "checkbox"; box.name = "held_photo"; box.value = answer.token; box.checked = true;
        label.appendChild(image); label.appendChild(box);
        list.appendChild(label);
        list.hidden = false;
      });
  }

  function choosePhotos(button) {
    var form = button.form;
    wx.chooseImage({
      count: 3, sizeType: ["compressed"], sourceType: ["camera", "album"],
      success: function (chosen) {
        chosen.localIds.reduce(function (previous, localId) {
          return previous.then(function () {
            return new Promise(function (resolve) {
              wx.uploadImage({
                localId: localId, isShowProgressTips: 1,
                success: function (uploaded) {
                  holdPhoto(form, button.getAttribute("data-wechat-photo"), uploaded.serverId)
                    .then(resolve, resolve);
                },
                fail: resolve
              });
            });
          });
        }, Promise.resolve());
      }
    });
  }

  function ready() {
    document.querySelectorAll("[data-wechat-location]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { useLocation(button); });
    });
    document.querySelectorAll("[data-wechat-photo]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { choosePhotos(button); });
    });
  }

  var address = location.href.split("#")[0];
  fetch(loader.getAttribute("data-config-url") + "?url=" + encodeURIComponent(address),
        { credentials: "same-origin" })
    .then(function (response) { return response.ok ? response.json() : Promise.reject(response); })
    .then(function (config) {
      wx.config({ debug: false, appId: config.appId, timestamp: config.timestamp,
                  nonceStr: config.nonceStr, signature: config.signature,
                  jsApiList: ["getLocation", "chooseImage", "uploadImage"] });
      wx.ready(ready);
      wx.error(function () { /* the SDK refused: the plain form stays */ });
    })
    .catch(function () { /* not signed in, or WeChat unavailable: the plain form stays */ });
})();
