// Names for the admin's unnamed controls (WCAG 4.1.2), for screen readers and voice control:
// - a tabular inline's fields have their column's heading but no label: each gets
//   "<heading>, row <n>" as its aria-label;
// - the autocomplete widget (select2) draws a combobox and a search field of its own for each
//   select: they get the select's label.
(function () {
  "use strict";

  function labelOf(select) {
    if (select.id) {
      var label = document.querySelector('label[for="' + select.id + '"]');
      if (label) return label.textContent.replace(/:\s*$/, "").trim();
    }
    var heading = columnHeading(select);
    return heading || select.name;
  }

  function columnHeading(field) {
    var cell = field.closest("td");
    var table = field.closest("table");
    if (!cell || !table) return "";
    var row = cell.parentElement;
    var index = Array.prototype.indexOf.call(row.children, cell);
    var headings = table.querySelectorAll("thead th");
    var offset = row.children.length - headings.length; // the row may begin with a hidden cell
    var heading = headings[index - offset];
    return heading ? heading.textContent.trim() : "";
  }

  function nameInlineFields(root) {
    root.querySelectorAll(".tabular td input, .tabular td select, .tabular td textarea").forEach(function (field) {
      if (field.type === "hidden" || field.getAttribute("aria-label") || field.labels && field.labels.length) return;
      var heading = columnHeading(field) || (field.name.endsWith("-DELETE") ? "Delete" : "");
      var row = field.closest("tr");
      var rows = Array.prototype.filter.call(row.parentElement.children, function (r) {
        return r.classList.contains("form-row") && !r.classList.contains("empty-form");
      });
      var n = rows.indexOf(row) + 1;
      if (heading) field.setAttribute("aria-label", n > 0 ? heading + ", row " + n : heading);
    });
  }

  function nameAutocompletes(root) {
    root.querySelectorAll("select.admin-autocomplete, select[data-autocomplete-light-function], select.select2-hidden-accessible").forEach(function (select) {
      var container = select.nextElementSibling;
      if (!container || !container.classList.contains("select2")) return;
      var name = labelOf(select);
      container.querySelectorAll('[role="combobox"], [role="textbox"], .select2-search__field').forEach(function (control) {
        if (!control.getAttribute("aria-label")) control.setAttribute("aria-label", name);
      });
      // select2 puts its mouse-only "clear all" cross inside the list of chosen items, where only
      // items belong; keyboard users remove items with Backspace.
      container.querySelectorAll(".select2-selection__rendered > span.select2-selection__clear").forEach(function (cross) {
        cross.setAttribute("role", "presentation");
        cross.setAttribute("aria-hidden", "true");
      });
    });
  }

  function nameAll() {
    nameInlineFields(document);
    nameAutocompletes(document);
  }

  document.addEventListener("DOMContentLoaded", function () {
    nameAll();
    // select2 redraws its markup as it is used, and inlines add rows: name them too.
    new MutationObserver(nameAll).observe(document.getElementById("content") || document.body, {
      childList: true,
      subtree: true,
    });
  });
})();
