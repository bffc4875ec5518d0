// The wallboard's live parts (a static file: the CSP allows no inline script).
// - One EventSource on the page's stream; each `snapshot` event fetches the figures again
//   and swaps them in. EventSource reconnects by itself when a stream ends; when the server
//   refuses (503: every stream slot taken, or Redis away) it gives up, so we open a new one
//   after a pause, and say on the page that the figures may be old meanwhile. Signed out
//   (the figures' request is sent to the sign-in page), the page reloads to sign in again.
// - The longest wait counts up every second from when the oldest waiting call came in,
//   by the server's clock (the figures carry the server's time).
(function () {
  "use strict";
  var board = document.getElementById("wallboard");
  if (!board) { return; }
  var status = document.getElementById("wallboard-connection");
  var RETRY_MS = 5000;
  var offset = 0;  // server clock minus this browser's clock, in ms
  var source = null;
  var fetching = false, again = false;

  function readClock() {
    var at = board.querySelector("[data-now]");
    if (at) { offset = Date.parse(at.getAttribute("data-now")) - Date.now(); }
  }

  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function formatWait(seconds) {
    var s = Math.max(0, Math.floor(seconds));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    return h ? h + ":" + pad(m) + ":" + pad(r) : m + ":" + pad(r);
  }
  function tick() {
    var wait = board.querySelector(".wallboard-wait[data-since]");
    if (!wait || !wait.getAttribute("data-since")) { return; }
    var since = Date.parse(wait.getAttribute("data-since"));
    var text = formatWait((Date.now() + offset - since) / 1000);
    if (wait.textContent !== text) { wait.textContent = text; }
  }

  function refresh() {
    if (fetching) { again = true; return; }
    fetching = true;
    fetch(board.getAttribute("data-figures"), {credentials: "same-origin", cache: "no-store"})
      .then(function (response) {
        if (response.redirected) {  // signed out (idle timeout): show the sign-in page
          window.location.reload();
          throw new Error("signed out");
        }
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.text();
      })
      .then(function (html) { board.innerHTML = html; readClock(); tick(); })
      .catch(function () {})
      .then(function () {
        fetching = false;
        if (again) { again = false; refresh(); }
      });
  }

  function setStatus(text) {
    if (status && status.textContent !== text) { status.textContent = text; }
  }

  function connect() {
    source = new EventSource(board.getAttribute("data-stream"));
    source.addEventListener("snapshot", function () { setStatus(""); refresh(); });
    source.addEventListener("error", function () {
      if (source.readyState === EventSource.CLOSED) {
        source.close();
        source = null;
        setStatus(board.getAttribute("data-lost"));
        refresh();  // still signed in? a redirect to the sign-in page reloads
        window.setTimeout(connect, RETRY_MS);
      }
    });
  }

  readClock();
  tick();
  window.setInterval(tick, 1000);
  connect();
})();
