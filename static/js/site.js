// ftmv: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";

  // Phone navigation toggle.
  var toggle = document.querySelector(".nav-toggle");
  var nav = document.getElementById("site-nav");
  if (toggle && nav) {
    toggle.addEventListener("click", function () {
      var open = nav.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  // Image previews for file inputs inside .upload boxes.
  document.querySelectorAll(".upload input[type=file]").forEach(function (input) {
    var box = input.closest(".upload");
    var img = box.querySelector("img.preview");
    var name = document.getElementById(input.id + "_name");
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      if (!file) { box.classList.remove("has-preview"); if (img) img.hidden = true; return; }
      if (name) name.textContent = file.name + " (" + Math.round(file.size / 1024) + " KB)";
      if (img && /^image\//.test(file.type)) {
        if (img.dataset.url) URL.revokeObjectURL(img.dataset.url);
        img.dataset.url = URL.createObjectURL(file);
        img.src = img.dataset.url;
        img.hidden = false;
        box.classList.add("has-preview");
      }
    });
  });

  // Catalog form: show the credit cost of the selected quantity; quantities the balance cannot pay for
  // are disabled (and the first affordable one chosen) before anything is uploaded.
  function initCosts(form) {
    var costs = JSON.parse(form.getAttribute("data-cost-map"));
    var credits = parseInt(form.getAttribute("data-credits") || "0", 10);
    var out = form.querySelector("[data-cost-output]");
    var affordable = [];
    form.querySelectorAll("input[name=quantity]").forEach(function (radio) {
      var cost = costs[radio.value];
      if (cost > credits) {
        radio.disabled = true;
        radio.closest("label").title = "Costs " + cost + " credits; you have " + credits;
        radio.closest("label").classList.add("is-disabled");
      } else {
        affordable.push(radio);
      }
    });
    var current = form.querySelector("input[name=quantity]:checked");
    if (affordable.length && (!current || current.disabled)) affordable[0].checked = true;
    function update() {
      var checked = form.querySelector("input[name=quantity]:checked");
      if (checked && out) out.textContent = costs[checked.value] + " credits";
    }
    form.addEventListener("change", update);
    update();
  }
  document.querySelectorAll("[data-cost-map]").forEach(initCosts);

  // Disable submit buttons while a form is uploading (prevents double orders).
  document.querySelectorAll("form[data-busy-text]").forEach(function (form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("button[type=submit]");
      if (button) { button.disabled = true; button.textContent = form.getAttribute("data-busy-text"); }
    });
  });

  // Upload forms keep the user's chosen files when the server sends the form back with an error: the form
  // is sent with fetch, and on an error page the new form (with its messages) replaces the old one but
  // keeps the old file inputs, whose selected files a page load would have dropped. Without fetch the
  // form posts as usual.
  document.querySelectorAll("form[data-keep-files]").forEach(function bind(form) {
    if (!window.fetch || !window.FormData || !window.DOMParser) return;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector("button[type=submit]");
      var label = button ? button.textContent : "";
      if (button) { button.disabled = true; button.textContent = form.getAttribute("data-busy-text"); }
      fetch(form.action || window.location.href, { method: "POST", body: new FormData(form), credentials: "same-origin" })
        .then(function (response) {
          if (response.redirected || response.ok) { window.location.href = response.url; return null; }
          return response.text();
        })
        .then(function (html) {
          if (html === null) return;
          var page = new DOMParser().parseFromString(html, "text/html");
          var fresh = page.querySelector("form[data-keep-files]");
          if (!fresh) { document.open(); document.write(html); document.close(); return; }
          form.querySelectorAll("input[type=file]").forEach(function (old) {
            var slot = fresh.querySelector("input[type=file][name='" + old.name + "']");
            if (slot && old.files && old.files.length) {
              old.removeAttribute("aria-invalid");
              ["aria-invalid", "aria-describedby"].forEach(function (a) {
                if (slot.hasAttribute(a)) old.setAttribute(a, slot.getAttribute(a));
              });
              var box = slot.closest(".upload");
              var oldBox = old.closest(".upload");
              slot.replaceWith(old);
              // Keep the preview of the kept file too.
              var preview = oldBox && oldBox.querySelector("img.preview");
              var freshPreview = box && box.querySelector("img.preview");
              if (preview && freshPreview) { freshPreview.replaceWith(preview); box.classList.add("has-preview"); }
              var name = fresh.querySelector("#" + old.id + "_name");
              if (name) name.textContent = old.files[0].name;
            }
          });
          form.replaceWith(fresh);
          var top = page.querySelector(".page-head");
          var shownTop = document.querySelector(".page-head");
          if (top && shownTop) shownTop.replaceWith(top);
          bind(fresh);
          if (fresh.hasAttribute("data-cost-map")) initCosts(fresh);
          fresh.scrollIntoView({ block: "start" });
        })
        .catch(function () {
          if (button) { button.disabled = false; button.textContent = label; }
        });
    });
  });

  // Copy-to-clipboard buttons: data-copy-target="#id".
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    button.addEventListener("click", function () {
      var target = document.querySelector(button.getAttribute("data-copy-target"));
      if (!target) return;
      var text = target.textContent.trim();
      var done = function () {
        var label = button.textContent;
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = label; }, 2000);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done);
      } else {
        // Plain-HTTP fallback: select the text so the user can copy it.
        var range = document.createRange();
        range.selectNodeContents(target);
        var selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        try { document.execCommand("copy"); done(); } catch (e) { /* text stays selected */ }
      }
    });
  });

  // Before/after comparison slider.
  document.querySelectorAll("[data-compare]").forEach(function (wrap) {
    var range = document.getElementById(wrap.getAttribute("data-compare"));
    var after = wrap.querySelector(".after-wrap");
    var divider = wrap.querySelector(".divider");
    if (!range || !after) return;
    function update() {
      var value = range.value;
      after.style.clipPath = "inset(0 0 0 " + value + "%)";
      if (divider) divider.style.left = value + "%";
    }
    range.addEventListener("input", update);
    update();
  });

  // Live order progress: poll the order's status endpoint until it finishes, then reload.
  var live = document.querySelector("[data-order-status-url]");
  if (live) {
    var url = live.getAttribute("data-order-status-url");
    var bar = live.querySelector(".bar");
    var progress = live.querySelector(".progress");
    var label = live.querySelector("[data-stage-label]");
    var percent = live.querySelector("[data-percent]");
    var badges = document.querySelectorAll("[data-status]");
    var steps = live.querySelectorAll(".steps li");
    var delay = 1500;
    var poll = function () {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (data) {
          if (data.finished) { window.location.reload(); return; }
          bar.style.width = data.progress + "%";
          progress.setAttribute("aria-valuenow", data.progress);
          if (percent) percent.textContent = data.progress + "%";
          if (label) label.textContent = data.stage_label;
          badges.forEach(function (badge) { badge.textContent = data.status_label; badge.className = "badge badge-" + data.status; });
          steps.forEach(function (li) {
            var at = parseInt(li.getAttribute("data-at"), 10);
            var next = parseInt(li.getAttribute("data-next"), 10);
            li.className = data.progress >= next ? "done" : (data.progress >= at ? "current" : "");
          });
          delay = 1500;
          setTimeout(poll, delay);
        })
        .catch(function () { delay = Math.min(delay * 2, 15000); setTimeout(poll, delay); });
    };
    setTimeout(poll, 800);
  }
})();
