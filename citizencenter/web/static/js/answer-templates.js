// The case page's answer templates: a saved reply forgets the template it was filled from,
// so the next reply, written by hand, does not claim it.
document.addEventListener("case-saved", function (event) {
  var form = event.target.closest ? event.target.closest("#reply-form") : null;
  var chosen = document.getElementById("reply-template");
  if (form && chosen) { chosen.value = ""; }
});
