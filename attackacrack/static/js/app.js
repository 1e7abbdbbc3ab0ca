// Small progressive enhancements; every page works without them.
(function () {
  // Re-fetch a fragment every N seconds: <div data-refresh="/url" data-every="5">.
  document.querySelectorAll("[data-refresh]").forEach(function (box) {
    var every = 1000 * (parseInt(box.dataset.every, 10) || 5);
    setInterval(function () {
      fetch(box.dataset.refresh, { headers: { "X-Requested-With": "fetch" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) { if (html !== null && html !== box.innerHTML) { box.innerHTML = html; } });
    }, every);
  });
  // Live preview of campaign texts: <form data-preview="/url" data-target="#id">.
  document.querySelectorAll("form[data-preview]").forEach(function (form) {
    var target = document.querySelector(form.dataset.target);
    var timer = null;
    function update() {
      var body = new FormData(form);
      fetch(form.dataset.preview, { method: "POST", body: body, credentials: "same-origin" })
        .then(function (response) { return response.text(); })
        .then(function (html) { target.innerHTML = html; });
    }
    form.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(update, 250); });
  });
})();
