// The console's own script: no framework, nothing a page needs to be read.
// htmx does the requests and the event stream (vendor/); this file only adds what
// htmx leaves to the page.
(function () {
  "use strict";
  // An event the log shows already (the stream resumed from an earlier position
  // after a reconnect) is not shown twice: each row carries its event's key as id.
  document.addEventListener("htmx:sseBeforeMessage", function (evt) {
    var key = evt.detail && evt.detail.lastEventId;
    var data = evt.detail && evt.detail.data;
    if (typeof data === "string") {
      var match = data.match(/ id="(log-[^"]+)"/);
      if (match && document.getElementById(match[1])) { evt.preventDefault(); }
    }
    return key;
  });
})();

// Admin area: a CSV upload's progress bar (audiences/list.html) follows the file as the
// browser sends it. htmx reports the upload's and then the answer's progress as the same
// event, so the bar only grows during a request (the page's answer replaces it anyway).
(function () {
  "use strict";
  function bar(evt) {
    var form = evt.target;
    return form && form.querySelector ? form.querySelector("progress[data-upload-progress]") : null;
  }
  document.addEventListener("htmx:beforeSend", function (evt) {
    var progress = bar(evt);
    if (progress) { progress.value = 0; progress.textContent = "0%"; }
  });
  document.addEventListener("htmx:xhr:progress", function (evt) {
    var progress = bar(evt);
    var d = evt.detail;
    if (progress && d && d.lengthComputable && d.total > 0) {
      var pct = Math.round(100 * d.loaded / d.total);
      if (pct > progress.value) { progress.value = pct; progress.textContent = pct + "%"; }
    }
  });
})();

// Any page: htmx swaps no 4xx/5xx answer and shows nothing when the server cannot be
// reached, so a failed action (Disable, Remove, Close, an upload, an estimate) would look
// like nothing happened. Say so in the page's alert (base.html) and move focus there.
(function () {
  "use strict";
  function say(text) {
    var region = document.getElementById("request-failed");
    if (!region) { return; }
    region.textContent = text;
    region.hidden = false;
    region.focus();
  }
  document.addEventListener("htmx:responseError", function (evt) {
    var xhr = evt.detail && evt.detail.xhr;
    var status = xhr ? (xhr.statusText || ("status " + xhr.status)) : "no answer";
    say("That did not work: " + status + ". Reload the page and try again.");
  });
  document.addEventListener("htmx:sendError", function () {
    say("The server cannot be reached.");
  });
})();
