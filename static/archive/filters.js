// The incident filters are folded on a phone (the first result then shows on the first screen) and
// open on a wider screen. Without JavaScript they are folded until a filter is applied.
document.querySelectorAll("details[data-open-wide]").forEach(function (details) {
  if (window.matchMedia("(min-width: 40rem)").matches) {
    details.open = true;
  }
});
