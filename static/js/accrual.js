// The accrual table: row selection, the bulk "Add bonuses" modal and the single-row modal. The budgets table
// (bonuses/budget_list.html) has the same selection bar, rows and modals, for its top-up / reduce forms.
(function () {
  "use strict";
  const bar = document.getElementById("selection-bar");
  if (!bar) { return; }
  const modalElement = document.getElementById("modal");
  const modal = bootstrap.Modal.getOrCreateInstance(modalElement);
  const rows = () => Array.from(document.querySelectorAll("input[data-select-row]"));
  const pageBox = document.querySelector("input[data-select-page]");
  const countLabel = bar.querySelector("[data-selection-count]");
  const bulkButton = bar.querySelector("[data-bulk-open]");
  const bulkCount = bar.querySelector("[data-bulk-count]");
  const allButton = bar.querySelector("[data-select-all-matching]");
  const clearButton = bar.querySelector("[data-clear-selection]");
  const matching = parseInt(bar.dataset.matching, 10);
  let allMatching = false;

  function selectedIds() {
    return rows().filter((box) => box.checked).map((box) => box.value);
  }

  function refresh() {
    const ids = selectedIds();
    const count = allMatching ? matching : ids.length;
    bulkButton.classList.toggle("d-none", count === 0);
    clearButton.classList.toggle("d-none", count === 0);
    allButton.classList.toggle("d-none", allMatching || ids.length === 0 || matching <= ids.length);
    bulkCount.textContent = count;
    countLabel.textContent = count === 0 ? countLabel.dataset.empty
      : (allMatching ? bar.dataset.allLabel : bar.dataset.someLabel).replace("%s", count);
    if (pageBox) {
      pageBox.checked = ids.length > 0 && ids.length === rows().length;
      pageBox.indeterminate = ids.length > 0 && ids.length < rows().length;
    }
  }

  countLabel.dataset.empty = countLabel.textContent;
  bar.dataset.someLabel = bar.dataset.someLabel || "%s selected";
  bar.dataset.allLabel = bar.dataset.allLabel || "All %s matching employees selected";

  document.addEventListener("change", function (event) {
    if (event.target.matches("input[data-select-row]")) {
      allMatching = false;
      refresh();
    } else if (event.target === pageBox) {
      allMatching = false;
      rows().forEach((box) => { box.checked = pageBox.checked; });
      refresh();
    }
  });
  allButton.addEventListener("click", function () {
    allMatching = true;
    rows().forEach((box) => { box.checked = true; });
    refresh();
  });
  clearButton.addEventListener("click", function () {
    allMatching = false;
    rows().forEach((box) => { box.checked = false; });
    refresh();
  });

  function openModal(url) {
    htmx.ajax("GET", url, { target: "#modal-body" }).then(function () { modal.show(); });
  }

  // Focus for keyboard and screen-reader users: into the modal's first field when it opens (or the first
  // field in error after a refused send), back to the button that opened it when it closes, and after a
  // successful send (a new page) to that row's button again, described by the message, or to the message.
  let opener = null;
  const RETURN_KEY = "accrual-return-focus";

  function focusInModal() {
    const body = document.getElementById("modal-body");
    const target = body.querySelector("input.is-invalid, textarea.is-invalid, select.is-invalid")
      || body.querySelector(".modal-body .alert-danger") || body.querySelector("input[name=amount], [data-autofocus]");
    if (!target) { return; }
    if (!target.matches("input, textarea, select")) { target.setAttribute("tabindex", "-1"); }
    target.focus();
  }
  modalElement.addEventListener("shown.bs.modal", focusInModal);
  modalElement.addEventListener("hidden.bs.modal", function () {
    if (opener && opener.isConnected) { opener.focus(); }
    opener = null;
  });
  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-open-modal], [data-bulk-open]");
    if (button) { opener = button; }
  });
  document.body.addEventListener("htmx:beforeOnLoad", function (event) {
    const redirect = event.detail.xhr.getResponseHeader("HX-Redirect");
    if (!redirect || !event.detail.elt.closest || !event.detail.elt.closest("#modal-body")) { return; }
    const row = opener && opener.closest("tr[data-employee]");
    const kind = opener ? opener.dataset.openModal || "" : "";  // which of the row's modals: "Add bonuses" (""), "state"
    sessionStorage.setItem(RETURN_KEY, JSON.stringify({ url: redirect, employee: row ? row.dataset.employee : null, kind: kind }));
  });

  function restoreFocus() {
    const saved = JSON.parse(sessionStorage.getItem(RETURN_KEY) || "null");
    sessionStorage.removeItem(RETURN_KEY);
    const here = new URL(window.location.href);
    if (!saved || new URL(saved.url, here).href !== here.href) { return; }
    const message = document.getElementById("message-1");
    const row = saved.employee && document.querySelector(`tr[data-employee="${saved.employee}"]`);
    const button = row && (row.querySelector(`[data-open-modal="${saved.kind || ""}"]`) || row.querySelector("[data-open-modal]"));
    if (button) {
      if (message) { button.setAttribute("aria-describedby", message.id); }
      button.focus();
    } else if (message) {
      message.closest(".alert").setAttribute("tabindex", "-1");
      message.closest(".alert").focus();
    }
  }

  bulkButton.addEventListener("click", function () {
    const params = new URLSearchParams({ currency: bar.dataset.currency, next: window.location.pathname + window.location.search });
    if (allMatching) {
      params.set("select_all", "1");
      params.set("filters", bar.dataset.filters.replace(/^\?/, ""));  // the table's query string, without its "?"
    } else {
      params.set("employees", selectedIds().join(","));
    }
    openModal(bar.dataset.bulkUrl + "?" + params.toString());
  });

  // The row buttons carry hx-get; the modal opens once the form has arrived. A form sent again from the open
  // modal gets the focus once settled: only then do its fields carry their new classes (is-invalid).
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target.id === "modal-body" && !modalElement.classList.contains("show")) { modal.show(); }
    updateTotal();
  });
  document.body.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail.target.id === "modal-body" && modalElement.classList.contains("show")) { focusInModal(); }
  });
  document.body.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.elt.matches && event.detail.elt.matches("[data-open-modal]")) {
      event.detail.parameters.next = window.location.pathname + window.location.search;
    }
  });

  // The bulk modal shows the total before Send. The amount is read exactly as the server reads it
  // (bonuses/rules.py parse_amount and clean_amount): digits, optionally in groups of three separated
  // by spaces (also no-break ones) or commas, a point for decimals, or a lone comma followed by one or
  // two digits. Anything the server would refuse shows a dash, never a misleading total.
  function updateTotal() {
    const summary = document.querySelector("[data-bulk-summary]");
    if (!summary) { return; }
    const input = document.querySelector("#modal-body input[name=amount]");
    const text = (input ? input.value : "").trim();
    const grouped = /^([-+]?)([0-9]+|[1-9][0-9]{0,2}([ \u00a0\u202f,])[0-9]{3}(?:\3[0-9]{3})*)?(?:\.([0-9]+))?$/;
    const decimalComma = /^([-+]?)([0-9]+),([0-9]{1,2})$/;
    let cents = null;  // the amount in hundredths, when the server would accept it
    let match = grouped.exec(text);
    let whole, fraction;
    if (match && (match[2] || match[4] !== undefined)) {
      whole = match[2] || "0"; fraction = match[4] || "";
    } else if ((match = decimalComma.exec(text))) {
      whole = match[2]; fraction = match[3];
    }
    if (match && match[1] !== "-" && fraction.length <= 2) {
      const value = Number(whole.replace(/[ \u00a0\u202f,]/g, "")) * 100 + Number(fraction.padEnd(2, "0"));
      const maximum = Number(input.dataset.maxAmount) * 100;
      const wholeOnly = input.dataset.wholeNumbers === "1";
      if (value > 0 && !(maximum && value > maximum) && !(wholeOnly && value % 100 !== 0)) { cents = value; }
    }
    // The total, and for a manager the same figure in "uses 600 of your 1,250 left", flagged when it is more.
    let shown = "0";
    let over = false;
    if (text !== "" && cents === null) {
      shown = "\u2014";
    } else if (cents !== null) {
      const totalCents = cents * parseInt(summary.dataset.count, 10);
      shown = (totalCents / 100).toLocaleString(undefined, { maximumFractionDigits: 2 });
      over = summary.dataset.budgetLeft !== undefined && totalCents > Math.round(Number(summary.dataset.budgetLeft) * 100);
    }
    summary.querySelectorAll("[data-bulk-total]").forEach(function (figure) { figure.textContent = shown; });
    const warning = summary.querySelector("[data-budget-over]");
    if (warning) { warning.hidden = !over; }
  }
  document.addEventListener("input", function (event) {
    if (event.target.matches("#modal-body input[name=amount]")) { updateTotal(); }
  });

  refresh();
  restoreFocus();
})();
