// SDIF Tracker's own script: behaviour attached by listeners, never inline handlers, so the
// Content-Security-Policy can forbid inline script ("script-src 'self'").
document.addEventListener("click", (event) => {
  // Print buttons ([data-print]); delegated, so buttons swapped in by htmx work too.
  if (event.target.closest("[data-print]")) {
    window.print();
  }
});
