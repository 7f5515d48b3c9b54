// SDIF Tracker's own script: behaviour attached by listeners, never inline handlers, so the
// Content-Security-Policy can forbid inline script ("script-src 'self'").
document.addEventListener("click", (event) => {
  // Print buttons ([data-print]); delegated, so buttons swapped in by htmx work too.
  if (event.target.closest("[data-print]")) {
    window.print();
  }
});

// The dashboard's edit panel (<dialog id="edit-panel">, goal_dashboard.html): an Update
// link ([data-opens-panel]) loads its form into the panel with htmx; the panel opens once
// the form is in, closes on Escape (the dialog's own), on Close/Cancel ([data-close-panel])
// and after a save, and gives focus back to the row's Update button. Without JavaScript
// the Update link goes to the milestone page's form.
(() => {
  let openerId = null;

  const panel = () => document.getElementById("edit-panel");

  document.addEventListener("click", (event) => {
    const opener = event.target.closest("[data-opens-panel]");
    if (opener) {
      openerId = opener.id;
    }
    if (event.target.closest("[data-close-panel]")) {
      panel()?.close();
    }
  });

  document.addEventListener("htmx:afterSwap", (event) => {
    const dialog = panel();
    if (!dialog || event.detail.target.id !== "edit-panel-body") {
      return;
    }
    if (event.detail.target.querySelector("[data-panel-saved]")) {
      dialog.close(); // the row, the counts and the message came out of band
      return;
    }
    if (!dialog.open) {
      dialog.showModal(); // focus goes to the autofocus field
      return;
    }
    // The form came back with errors: focus the first message, else the first field.
    const problem = dialog.querySelector(".alert, [data-conflict], .is-invalid");
    if (problem) {
      if (!problem.matches("input, select, textarea")) {
        problem.setAttribute("tabindex", "-1");
      }
      problem.focus();
    }
  });

  // A refused or failed request (403 once the goal is closed, 500, no network) must not
  // leave the reader waiting: opening falls back to the milestone page (which says why);
  // a failed save says so above the list, in a live region.
  const failed = (event) => {
    const source = event.detail.elt;
    if (source && source.matches("[data-opens-panel]")) {
      window.location.assign(source.href);
      return;
    }
    if (source && source.closest("#edit-panel")) {
      panel()?.close();
      const notice = document.getElementById("panel-failed");
      if (notice) {
        notice.hidden = false;
        notice.scrollIntoView({ block: "nearest" });
      }
    }
  };
  document.addEventListener("htmx:responseError", failed);
  document.addEventListener("htmx:sendError", failed);

  document.addEventListener(
    "close",
    (event) => {
      if (event.target.id !== "edit-panel") {
        return;
      }
      document.getElementById("edit-panel-body").replaceChildren();
      const opener = openerId && document.getElementById(openerId);
      if (opener) {
        opener.focus();
      }
    },
    true, // "close" does not bubble
  );
})();
