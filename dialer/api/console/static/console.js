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
