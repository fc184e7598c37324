/* Forms on a phone: drafts kept in the browser until the server has saved them, an "X" key
   for ID numbers, the person search of the 新增会员 page, and list filters folded on a
   small screen. Plain script, no build step; every page works without it.

   Drafts live in sessionStorage, not localStorage: they hold ID numbers and phones, and a
   phone is often shared. sessionStorage survives a reload, Back and a dropped connection in
   the same tab, and is gone when the tab is closed; drafts are also deleted when the server
   confirms the save (<meta name="draft-saved">) and when the user signs out. */
(function () {
  "use strict";

  var PREFIX = "draft:";
  var TOKEN = "form_token"; // kept with the draft: a re-sent draft is the same submission
  var SKIPPED_TYPES = ["password", "file", "submit", "button", "reset", "image"];

  function storage() {
    try {
      var s = window.sessionStorage;
      s.setItem(PREFIX + "probe", "1");
      s.removeItem(PREFIX + "probe");
      return s;
    } catch (e) {
      return null; // private mode or storage disabled: forms work, without drafts
    }
  }

  function kept(el) {
    if (!el.name || el.disabled || el.name === "csrfmiddlewaretoken") return false;
    if (SKIPPED_TYPES.indexOf(el.type) !== -1) return false;
    if (el.type === "hidden") return el.name === TOKEN;
    return true;
  }

  function collect(form) {
    var fields = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!kept(el)) return;
      var values = fields[el.name] || (fields[el.name] = []);
      if (el.type === "checkbox" || el.type === "radio") {
        if (el.checked) values.push(el.value);
      } else if (el.tagName === "SELECT" && el.multiple) {
        Array.prototype.forEach.call(el.selectedOptions, function (o) { values.push(o.value); });
      } else {
        values.push(el.value);
      }
    });
    return fields;
  }

  function same(a, b) {
    return JSON.stringify(a || []) === JSON.stringify(b || []);
  }

  function apply(form, fields, original) {
    var changed = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!kept(el) || !(el.name in fields)) return;
      var values = fields[el.name];
      if (el.type === "checkbox" || el.type === "radio") {
        el.checked = values.indexOf(el.value) !== -1;
      } else if (el.tagName === "SELECT" && el.multiple) {
        Array.prototype.forEach.call(el.options, function (o) {
          o.selected = values.indexOf(o.value) !== -1;
        });
      } else if (values.length) {
        el.value = values[0];
      }
      if (el.name !== TOKEN && !same(values, original[el.name])) changed.push(el);
    });
    return changed;
  }

  function openFoldsAround(elements) {
    elements.forEach(function (el) {
      for (var node = el.parentElement; node; node = node.parentElement) {
        if (node.tagName === "DETAILS") node.open = true;
      }
    });
  }

  function notice(form, onClear) {
    var box = document.createElement("p");
    box.className = "draft-notice";
    box.setAttribute("role", "status");
    box.appendChild(document.createTextNode("已恢复未提交的草稿 "));
    var button = document.createElement("button");
    button.type = "button";
    button.className = "btn small";
    button.textContent = "清除";
    button.addEventListener("click", function () {
      onClear();
      box.remove();
    });
    box.appendChild(button);
    form.insertBefore(box, form.firstChild);
  }

  function keepDraft(form, store) {
    var key = PREFIX + form.getAttribute("data-draft");
    var original = collect(form);
    var tokenInput = form.elements[TOKEN];
    var serverToken = tokenInput ? tokenInput.value : "";

    function save() {
      try {
        store.setItem(key, JSON.stringify({ at: Date.now(), fields: collect(form) }));
      } catch (e) { /* storage full: the form still works */ }
    }

    if (form.hasAttribute("data-draft-bound")) {
      save(); // the server showed errors: what was sent is the draft now
    } else {
      var draft = null;
      try { draft = JSON.parse(store.getItem(key) || "null"); } catch (e) { draft = null; }
      if (draft && draft.fields) {
        var changed = apply(form, draft.fields, original);
        if (changed.length) {
          openFoldsAround(changed);
          notice(form, function () {
            store.removeItem(key);
            form.reset();
            if (tokenInput) tokenInput.value = serverToken; // a fresh form, a fresh token
          });
        } else {
          store.removeItem(key);
          if (tokenInput) tokenInput.value = serverToken;
        }
      }
    }
    form.addEventListener("input", save);
    form.addEventListener("change", save);
    form.addEventListener("submit", save);
  }

  function forgetSaved(store) {
    document.querySelectorAll('meta[name="draft-saved"]').forEach(function (meta) {
      store.removeItem(PREFIX + meta.content);
    });
    document.querySelectorAll("form[data-drafts-forget]").forEach(function (form) {
      form.addEventListener("submit", function () {
        for (var i = store.length - 1; i >= 0; i--) {
          var k = store.key(i);
          if (k && k.indexOf(PREFIX) === 0) store.removeItem(k);
        }
      });
    });
  }

  /* The digit pad that inputmode="numeric" opens has no X: a key beside the field types
     the check character. A hardware keyboard types it as usual. */
  function idNumberKeys() {
    document.querySelectorAll("input[data-id-number]").forEach(function (input) {
      var wrap = document.createElement("span");
      wrap.className = "id-entry";
      input.parentNode.insertBefore(wrap, input);
      wrap.appendChild(input);
      var key = document.createElement("button");
      key.type = "button";
      key.className = "btn id-x";
      key.textContent = "X";
      key.setAttribute("aria-label", "输入身份证号码末位 X");
      key.addEventListener("click", function () {
        var value = input.value.replace(/\s+/g, "");
        if (!/[Xx]$/.test(value)) input.value = value + "X";
        input.dispatchEvent(new Event("input", { bubbles: true }));
      });
      wrap.appendChild(key);
    });
  }

  /* 新增会员: the person search answers while the user types (an HTML fragment from the
     server); without the script the same form asks the page itself (?find=). */
  function personSearch() {
    document.querySelectorAll("form[data-person-search]").forEach(function (form) {
      var input = form.querySelector("input[type=search]");
      var results = form.parentNode.querySelector(".pick-results");
      var timer = null;
      var pending = null;

      function run() {
        var q = input.value.trim();
        if (pending) pending.abort();
        if (!q) { results.innerHTML = ""; return; }
        var params = new URLSearchParams({ q: q });
        var group = document.querySelector("form[data-draft] input[name=group]:checked");
        if (group && group.value) params.set("group", group.value);
        else if (form.elements.group) params.set("group", form.elements.group.value);
        pending = new AbortController();
        fetch(form.getAttribute("data-person-search") + "?" + params.toString(), {
          credentials: "same-origin",
          signal: pending.signal,
        })
          .then(function (r) {
            if (!r.ok) throw new Error(String(r.status));
            return r.text();
          })
          .then(function (html) { results.innerHTML = html; })
          .catch(function (e) {
            if (e.name !== "AbortError") results.innerHTML = '<p class="error">搜索失败,请检查网络后重试。</p>';
          });
      }

      input.addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(run, 250);
      });
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        clearTimeout(timer);
        run();
      });
    });
  }

  /* A list's filter panel opens when filters are set; on a phone it folds again so that the
     first row, not the panel, is on the first screen (its summary says how many are set). */
  function foldFiltersOnPhone() {
    if (!window.matchMedia || !window.matchMedia("(max-width: 599px)").matches) return;
    document.querySelectorAll("details[data-fold-on-phone][open]").forEach(function (d) {
      d.open = false;
    });
  }

  function start() {
    var store = storage();
    if (store) {
      forgetSaved(store);
      document.querySelectorAll("form[data-draft]").forEach(function (form) {
        keepDraft(form, store);
      });
    }
    idNumberKeys();
    personSearch();
    foldFiltersOnPhone();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
