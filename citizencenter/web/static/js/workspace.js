// The guide's workspace live parts (no inline script: the CSP allows only this site's files).
// - The header's waiting count: asked for again now and then, and at once when the event
//   stream says the counts changed; replaced only when its text changed (aria-live polite).
// - On the workspace pages ([data-workspace-events]): one EventSource. A `screen_pop` event
//   fetches the pop (who is calling) into the polite live region, never moving focus; the
//   stream starts with the call the guide is on, so a page opened mid-call shows it too.
//   The worklist (#worklist[data-refresh]) is fetched again every few seconds and on a
//   `waiting` event, and swapped only when it changed and focus is not inside it, so the
//   list never jumps under the guide's keyboard.
// - Alt+Shift+N presses "Nästa ärende".
(function () {
  "use strict";
  var COUNT_URL = "/workspace/waiting-count";
  var COUNT_EVERY_MS = 15000;
  var LIST_EVERY_MS = 5000;

  function get(url) {
    return fetch(url, {credentials: "same-origin", headers: {"HX-Request": "true"}})
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.text();
      });
  }

  function replaceIfChanged(element, html) {
    if (element.innerHTML.trim() === html.trim()) { return false; }
    element.innerHTML = html;
    return true;
  }

  // The header's count of waiting cases.
  var count = document.getElementById("waiting-count");
  function refreshCount() {
    if (!count) { return; }
    get(COUNT_URL).then(function (html) { replaceIfChanged(count, html); })
      .catch(function () {});
  }
  if (count && document.querySelector(".logout")) {
    if (!count.innerHTML.trim()) { refreshCount(); }
    window.setInterval(refreshCount, COUNT_EVERY_MS);
  }

  // The worklist, kept up to date without moving focus.
  var list = document.querySelector("#worklist[data-refresh]");
  var pendingList = null;
  function swapList(html) {
    if (list.contains(document.activeElement)) {
      pendingList = html;  // the guide is reading it: swap once focus leaves
      return;
    }
    pendingList = null;
    replaceIfChanged(list, html);
  }
  function refreshList() {
    if (!list) { return; }
    get(list.getAttribute("data-refresh")).then(swapList).catch(function () {});
  }
  if (list) {
    list.addEventListener("focusout", function () {
      window.setTimeout(function () {
        if (pendingList !== null && !list.contains(document.activeElement)) {
          swapList(pendingList);
        }
      }, 0);
    });
    window.setInterval(refreshList, LIST_EVERY_MS);
  }

  // The event stream: screen pops and changed waiting counts.
  var workspace = document.querySelector("[data-workspace-events]");
  var popRegion = document.getElementById("screen-pop");
  var poppedCall = null;  // the call shown (or being fetched): a stream starts with the
                          // call the guide is on, so a reconnect names it again
  function showPop(callId, tries) {
    var url = workspace.getAttribute("data-screen-pop").replace(/\/0\/pop$/, "/" + callId + "/pop");
    get(url).then(function (html) { popRegion.innerHTML = html; }).catch(function () {
      tries = tries || 0;  // a busy database: ask again a few times, soon
      if (tries < 4) { window.setTimeout(function () { showPop(callId, tries + 1); }, 400); }
      else if (poppedCall === callId) { poppedCall = null; }
    });
  }
  function connect() {
    var source = new EventSource(workspace.getAttribute("data-workspace-events"));
    source.addEventListener("screen_pop", function (event) {
      var data = JSON.parse(event.data);
      var callId = data && parseInt(data.call_id, 10);
      if (callId && callId !== poppedCall) {
        poppedCall = callId;
        showPop(callId);
      }
    });
    source.addEventListener("waiting", function () { refreshCount(); refreshList(); });
    source.addEventListener("error", function () {
      if (source.readyState === EventSource.CLOSED) {  // refused (e.g. 503): try again later
        source.close();
        window.setTimeout(connect, 5000);
      }
    });
  }
  if (workspace && popRegion && window.EventSource) { connect(); }

  // Alt+Shift+N: "Nästa ärende".
  document.addEventListener("keydown", function (event) {
    if (event.altKey && event.shiftKey && !event.ctrlKey && !event.metaKey &&
        event.code === "KeyN") {
      var button = document.getElementById("next-case");
      if (button) {
        event.preventDefault();
        button.click();
      }
    }
  });
}());
