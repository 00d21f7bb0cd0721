/*
 * Accessibility fixes to the widgets Django admin builds in the browser
 * (issue 17), loaded on every admin page by templates/admin/base_site.html.
 * Both run once admin's own scripts have built the widgets (after admin's
 * jQuery ready handlers, on "load", and when an inline row is added).
 *
 * - The course autocomplete (select2): its combobox is named only by the
 *   chosen option, so empty it has no name, nor has the read-only textbox
 *   showing that option. Both are labelled by the field's own label as well.
 * - The filter boxes of "Topics" (SelectFilter2): the magnifier inside each
 *   box's label carries an aria-label, which a plain span may not; as an image
 *   it may, and it names the filter box.
 */
"use strict";

(function () {
  function nameComboboxes() {
    document
      .querySelectorAll(".select2-selection[role=combobox]")
      .forEach(function (box) {
        const container = box.closest(".select2-container");
        const select = container && container.previousElementSibling;
        if (!select || !select.id) {
          return;
        }
        const label = document.querySelector('label[for="' + select.id + '"]');
        if (!label) {
          return;
        }
        if (!label.id) {
          label.id = select.id + "-label";
        }
        // The chosen option, shown as a read-only textbox, has the same label.
        const shown = box.querySelector("[role=textbox]");
        if (shown) {
          shown.setAttribute("aria-labelledby", label.id);
        }
        const names = (box.getAttribute("aria-labelledby") || "").split(" ");
        if (!names.includes(label.id)) {
          box.setAttribute("aria-labelledby", [label.id, ...names].join(" ").trim());
        }
      });
  }

  function filterIconsAreImages() {
    document.querySelectorAll(".search-label-icon[aria-label]").forEach(function (icon) {
      icon.setAttribute("role", "img");
    });
  }

  function fix() {
    nameComboboxes();
    filterIconsAreImages();
  }

  // After admin's own jQuery ready handlers (select2 starts in one), and on load.
  if (window.django && window.django.jQuery) {
    window.django.jQuery(fix);
  }
  window.addEventListener("load", fix);
  document.addEventListener("formset:added", fix);
})();
