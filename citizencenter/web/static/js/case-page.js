// The case page: Ctrl+Enter (Cmd+Enter) in the reply box sends the reply, and a form whose
// change was saved is emptied (the server answers a saved change with HX-Trigger: case-saved).
document.addEventListener("keydown", function (event) {
  var box = event.target;
  if (box.id !== "reply-body" || event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) {
    return;
  }
  event.preventDefault();
  box.form.requestSubmit();
});
document.addEventListener("case-saved", function (event) {
  var form = event.target.closest ? event.target.closest("form[data-reset-on-save]") : null;
  if (form) { form.reset(); }
});
