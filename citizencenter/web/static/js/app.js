// Every htmx request carries the CSRF token from the page's meta tag (no inline script:
// the Content-Security-Policy allows only this site's files).
document.addEventListener("htmx:configRequest", function (event) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) { event.detail.headers["X-CSRFToken"] = meta.content; }
});
// With script running, the presence select saves on change; its button is for no-script use.
document.documentElement.classList.add("js");
