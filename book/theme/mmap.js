// Print opens every fold (<details>) of the page — the full reports, the details of each
// claim, every measurement — and closes again the ones the reader had closed.
// book.toml loads this file (additional-js); mmap.css opens them too where the browser
// supports ::details-content.
(function () {
  "use strict";
  var opened = [];
  function openAll() {
    document.querySelectorAll("details:not([open])").forEach(function (d) {
      d.open = true;
      opened.push(d);
    });
  }
  function restore() {
    opened.forEach(function (d) { d.open = false; });
    opened = [];
  }
  window.addEventListener("beforeprint", openAll);
  window.addEventListener("afterprint", restore);
  var print = window.matchMedia("print");
  print.addEventListener("change", function (e) {
    if (e.matches) { openAll(); } else { restore(); }
  });
  if (print.matches) { openAll(); }
})();
