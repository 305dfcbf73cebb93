// The console's own script: no framework, nothing a page needs to be read.
// htmx does the requests and the event stream (vendor/); this file only adds what
// htmx leaves to the page.
(function () {
  "use strict";

  // -- The campaign console's live log (campaigns/console.html) --------------------
  var MAX_LOG_ROWS = 500;

  function logBox() { return document.querySelector(".event-log"); }
  function atEnd(box) { return box.scrollHeight - box.scrollTop - box.clientHeight < 8; }

  // The log opens at its newest row (its end).
  document.addEventListener("DOMContentLoaded", function () {
    var box = logBox();
    if (box) { box.scrollTop = box.scrollHeight; }
  });

  // An event the log shows already (the stream resumed from an earlier position
  // after a reconnect) is not shown twice: each row carries its event's key as id.
  // Before a row is added: is the person at the log's end (then the log follows)?
  document.addEventListener("htmx:sseBeforeMessage", function (evt) {
    var data = evt.detail && evt.detail.data;
    if (typeof data === "string") {
      var match = data.match(/^\s*<li id="(log-[^"]+)"/);
      if (match && document.getElementById(match[1])) { evt.preventDefault(); return; }
    }
    var box = logBox();
    if (box) { box.dataset.follow = atEnd(box) ? "yes" : "no"; }
  });

  // After each event: the extension's own reconnect (a new EventSource, once the
  // server was gone) resumes after the last event received, not from the page's
  // load; and the log keeps its newest rows only.
  document.addEventListener("htmx:sseMessage", function (evt) {
    var source = evt.target.closest && evt.target.closest("[sse-connect]");
    var id = evt.detail && evt.detail.lastEventId;
    if (source) {
      var url = new URL(source.getAttribute("sse-connect"), document.baseURI);
      if (id) { url.searchParams.set("after", id); }
      // The page now shows what this stream drew: the state it was rendered in no
      // longer says what is on screen.
      if (evt.detail && evt.detail.type === "metrics") { url.searchParams.delete("state"); }
      source.setAttribute("sse-connect", url.pathname + url.search);
    }
    var rows = document.getElementById("log-rows");
    while (rows && rows.children.length > MAX_LOG_ROWS) { rows.removeChild(rows.firstElementChild); }
    var box = logBox();
    if (box && box.dataset.follow === "yes") { box.scrollTop = box.scrollHeight; }
  });

  // "Live" while the stream is open, "Reconnecting…" while the browser retries.
  function connection(evt, text, live) {
    var box = evt.target.querySelector && evt.target.querySelector("[data-connection]");
    if (box) {
      box.textContent = text;
      box.classList.toggle("connection-live", live);
    }
  }
  document.addEventListener("htmx:sseOpen", function (evt) { connection(evt, "Live", true); });
  document.addEventListener("htmx:sseError", function (evt) {
    connection(evt, "Reconnecting…", false);
  });
  // Closed for good (the "closed" event said why, in the indicator's own text).
  document.addEventListener("htmx:sseClose", function (evt) {
    var box = evt.target.querySelector && evt.target.querySelector("[data-connection]");
    if (box) { box.classList.remove("connection-live"); }
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

// Campaign form (campaigns/form.html): the estimate box is a live region re-asked after
// typing; an answer equal to the one shown is not swapped in, so a screen reader hears
// the estimate only when it changes.
(function () {
  "use strict";
  var shown = new WeakMap();  // estimate box -> the answer it shows
  document.addEventListener("htmx:beforeSwap", function (evt) {
    var d = evt.detail;
    if (!d || !d.target || d.target.id !== "estimate" || d.isError) { return; }
    if (shown.get(d.target) === d.serverResponse) { d.shouldSwap = false; }
    else { shown.set(d.target, d.serverResponse); }
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
    // Not out of a field being typed in (the estimate asks while the person types).
    var typing = document.activeElement && /^(INPUT|TEXTAREA|SELECT)$/.test(
      document.activeElement.tagName);
    if (!typing) { region.focus(); }
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
