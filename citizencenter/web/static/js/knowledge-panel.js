// The knowledge panel: "Infoga länk" puts the article's title (and, for a public article,
// its address) into the reply box at the cursor, on a line of its own, and says so in the
// panel's live region. The panel names the box in data-insert-target.
document.addEventListener("click", function (event) {
  var button = event.target.closest ? event.target.closest("[data-knowledge-insert]") : null;
  if (!button) { return; }
  var panel = button.closest("[data-insert-target]");
  var box = panel ? document.getElementById(panel.getAttribute("data-insert-target")) : null;
  if (!box) { return; }
  var text = button.getAttribute("data-knowledge-insert");
  var at = typeof box.selectionStart === "number" && document.activeElement === box
    ? box.selectionStart : box.value.length;
  var before = box.value.slice(0, at);
  var after = box.value.slice(at);
  var lead = before && !/\n$/.test(before) ? "\n" : "";
  var tail = after && !/^\n/.test(after) ? "\n" : "";
  box.value = before + lead + text + tail + after;
  var cursor = (before + lead + text).length;
  box.dispatchEvent(new Event("input", { bubbles: true }));
  box.focus();
  box.setSelectionRange(cursor, cursor);
  var status = document.getElementById("knowledge-status");
  if (status) { status.textContent = button.getAttribute("data-knowledge-inserted"); }
});
