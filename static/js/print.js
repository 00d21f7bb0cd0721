// "Print this certificate": a button shown only where JavaScript runs (the
// page says how to print without it), which opens the browser's print dialog.
document.querySelectorAll("[data-print-button]").forEach((button) => {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
});
