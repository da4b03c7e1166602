// Currency settings: only the chosen burn-out policy's fields are shown, and the burn-out steps are
// rows of a Django formset that this script adds and removes. Without it the page still works: the
// server renders the chosen policy's fields and ignores the others, and offers two empty rows.
(function () {
  "use strict";

  const form = document.querySelector("form[data-currency-settings]");
  if (!form) { return; }

  const policy = form.querySelector("[name='burn_policy']");
  function showChosenPolicy() {
    form.querySelectorAll("[data-policy-section]").forEach(function (section) {
      // A section with an error stays in sight: the server names a stored value it cannot keep.
      section.hidden = section.dataset.policySection !== policy.value && !section.querySelector(".is-invalid");
    });
  }
  policy.addEventListener("change", showChosenPolicy);
  showChosenPolicy(); // a browser may restore another choice than the server rendered (Back button)

  // The budget policy: its fields once a period is chosen, the chosen allowance's amount, the cap with a rollover.
  const budgetPeriod = form.querySelector("[name='budget_period']");
  const budgetSection = form.querySelector("[data-budget-section]");
  const rollover = form.querySelector("[name='budget_rollover']");
  function showBudgetPolicy() {
    budgetSection.hidden = budgetPeriod.value === "";
    const basis = form.querySelector("[name='budget_basis']:checked");
    form.querySelectorAll("[data-basis-section]").forEach(function (section) {
      section.hidden = !basis || section.dataset.basisSection !== basis.value;
    });
    form.querySelector("[data-rollover-section]").hidden = !rollover.checked;
  }
  if (budgetPeriod && budgetSection) {
    form.addEventListener("change", function (event) {
      if (event.target.matches("[name='budget_period'], [name='budget_basis'], [name='budget_rollover']")) { showBudgetPolicy(); }
    });
    showBudgetPolicy();
  }

  const rows = form.querySelector("[data-steps]");
  const template = form.querySelector("template[data-step-template]");
  const total = form.querySelector("[name='steps-TOTAL_FORMS']");
  const initial = Number(form.querySelector("[name='steps-INITIAL_FORMS']").value);
  const add = form.querySelector("[data-add-step]");

  function isBlank(row) {
    return Array.from(row.querySelectorAll("input[type='number']")).every(function (input) { return input.value === ""; });
  }

  // The empty rows at the end are for browsers without this script: here "Add a step" makes rows.
  while (Number(total.value) > initial && rows.lastElementChild && isBlank(rows.lastElementChild)) {
    rows.lastElementChild.remove();
    total.value = Number(total.value) - 1;
  }
  rows.querySelectorAll("[data-remove-step]:checked").forEach(function (box) { box.closest("[data-step]").hidden = true; });

  add.hidden = false;
  add.addEventListener("click", function () {
    const index = Number(total.value);
    const holder = document.createElement("div");
    holder.innerHTML = template.innerHTML.replace(/__prefix__/g, String(index));
    const row = holder.querySelector("[data-step]");
    rows.append(row);
    total.value = index + 1;
    row.querySelector("input").focus();
  });

  // "Remove step" ticks the row's DELETE box (what the server reads); the row then goes out of sight.
  rows.addEventListener("change", function (event) {
    if (event.target.matches("[data-remove-step]") && event.target.checked) {
      event.target.closest("[data-step]").hidden = true;
      add.focus();
    }
  });
})();
