// The registration form: the service point matters for a visit only, so it is hidden while
// the channel is phone (without script it stays visible). Focus after a save or an error is
// the server's `autofocus`, which htmx honours after the swap.
(function () {
  function update() {
    var form = document.getElementById("register-form");
    if (!form) { return; }
    var checked = form.querySelector('input[name="channel"]:checked');
    var channel = checked ? checked.value : "phone";
    form.querySelectorAll("[data-for-channel]").forEach(function (field) {
      var invalid = field.querySelector('[aria-invalid="true"]');
      field.hidden = field.getAttribute("data-for-channel") !== channel && !invalid;
    });
  }
  document.addEventListener("change", function (event) {
    if (event.target.name === "channel") { update(); }
  });
  document.addEventListener("htmx:afterSettle", update);
  document.addEventListener("DOMContentLoaded", update);
})();
