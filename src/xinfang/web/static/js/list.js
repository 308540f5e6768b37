(function () {
  "use strict";
  const all = document.getElementById("select-all");
  if (all) all.addEventListener("change", () => {
    document.querySelectorAll('input[name="ids"]').forEach((c) => { c.checked = all.checked; });
  });
})();
