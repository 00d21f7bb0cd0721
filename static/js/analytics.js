/*
 * First-party analytics beacon. base.html loads this (deferred, from our own
 * static files) only for visitors who accepted analytics cookies; pages work
 * the same without it. It reports, for the page view its token names:
 * time spent on the page while visible, how far down it was scrolled (percent),
 * the browser's time zone, and links followed to other websites. Reports go to
 * our own /analytics/beacon/ with navigator.sendBeacon; nothing else is sent.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !navigator.sendBeacon || !window.URLSearchParams) {
    return;
  }
  var token = script.getAttribute("data-token");
  var endpoint = script.getAttribute("data-endpoint");
  if (!token || !endpoint) {
    return; // nothing is recorded for this page
  }
  var visibleSince = document.visibilityState === "visible" ? Date.now() : null;
  var visibleMs = 0;
  var maxScroll = 0;
  var timeZone = "";
  try {
    timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (e) {
    timeZone = "";
  }

  function scrolled() {
    var doc = document.documentElement;
    var height = Math.max(doc.scrollHeight, document.body.scrollHeight);
    var seen = window.scrollY + window.innerHeight;
    var percent = height > 0 ? Math.round((100 * seen) / height) : 100;
    maxScroll = Math.max(maxScroll, Math.min(100, percent));
  }

  function send(fields) {
    var data = new URLSearchParams();
    data.set("token", token);
    Object.keys(fields).forEach(function (name) {
      data.set(name, String(fields[name]));
    });
    navigator.sendBeacon(endpoint, data);
  }

  function report() {
    if (visibleSince !== null) {
      visibleMs += Date.now() - visibleSince;
      visibleSince = null;
    }
    send({
      kind: "engagement",
      seconds: Math.min(86400, Math.round(visibleMs / 1000)),
      scroll: maxScroll,
      tz: timeZone
    });
  }

  var pending = false;
  window.addEventListener(
    "scroll",
    function () {
      if (!pending) {
        pending = true;
        window.setTimeout(function () {
          pending = false;
          scrolled();
        }, 200);
      }
    },
    { passive: true }
  );
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") {
      report();
    } else {
      visibleSince = Date.now();
    }
  });
  window.addEventListener("pagehide", function () {
    if (visibleSince !== null) {
      report();
    }
  });
  document.addEventListener("click", function (event) {
    var link = event.target && event.target.closest ? event.target.closest("a[href]") : null;
    if (link && link.origin !== window.location.origin && /^https?:$/.test(link.protocol)) {
      send({ kind: "click", href: link.href });
    }
  });
  scrolled();
})();
