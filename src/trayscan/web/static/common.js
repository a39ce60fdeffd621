/* Shared by the kiosk and staff pages: language switch, calls to the API, error texts, money, DOM helpers. */
"use strict";

(function () {
  const STRINGS = window.TRAYSCAN_STRINGS;
  const LANG_KEY = "trayscan.lang";
  const listeners = [];

  function initialLang() {
    let saved = null;
    try {
      saved = localStorage.getItem(LANG_KEY);
    } catch (_) {
      /* storage disabled: fall back to the browser's language */
    }
    if (saved === "en" || saved === "zh") return saved;
    return (navigator.language || "").toLowerCase().startsWith("zh") ? "zh" : "en";
  }

  let lang = initialLang();

  /** The label `key` in the current language, `{name}` replaced from `vars`. */
  function t(key, vars) {
    let text = (STRINGS[lang] && STRINGS[lang][key]) ?? STRINGS.en[key] ?? key;
    if (vars) {
      text = text.replace(/\{(\w+)\}/g, (match, name) => (name in vars ? String(vars[name]) : match));
    }
    return text;
  }

  /** "1 item" / "3 items": `baseKey_one` or `baseKey_many`. */
  function plural(baseKey, n, vars) {
    return t(n === 1 ? baseKey + "_one" : baseKey + "_many", Object.assign({ n }, vars || {}));
  }

  function applyI18n(root) {
    const scope = root || document;
    scope.querySelectorAll("[data-i18n]").forEach((el) => {
      el.textContent = t(el.dataset.i18n);
    });
    scope.querySelectorAll("[data-i18n-placeholder]").forEach((el) => {
      el.placeholder = t(el.dataset.i18nPlaceholder);
    });
    scope.querySelectorAll("[data-i18n-label]").forEach((el) => {
      el.setAttribute("aria-label", t(el.dataset.i18nLabel));
    });
    scope.querySelectorAll("[data-i18n-alt]").forEach((el) => {
      el.alt = t(el.dataset.i18nAlt);
    });
    if (!root) {
      document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
      if (document.body.dataset.titleKey) document.title = t(document.body.dataset.titleKey) + " · trayscan";
      document.querySelectorAll("[data-lang]").forEach((button) => {
        button.setAttribute("aria-pressed", String(button.dataset.lang === lang));
      });
    }
  }

  function setLang(next) {
    if (next !== "en" && next !== "zh") return;
    lang = next;
    try {
      localStorage.setItem(LANG_KEY, next);
    } catch (_) {
      /* not kept: fine */
    }
    applyI18n();
    listeners.forEach((fn) => fn(next));
  }

  /** Buttons with `data-lang="en|zh"` switch the language; `fn` re-renders what the page drew itself. */
  function initI18n(fn) {
    if (fn) listeners.push(fn);
    document.querySelectorAll("[data-lang]").forEach((button) => {
      button.addEventListener("click", () => setLang(button.dataset.lang));
    });
    applyI18n();
  }

  class ApiError extends Error {
    constructor(status, code, detail) {
      super(detail || code);
      this.status = status;
      this.code = code;
      this.detail = detail;
    }
  }

  /**
   * Call the API. `json` is sent as a JSON body, `form` as multipart; `token` as a bearer token.
   * Resolves to the parsed JSON answer; rejects with an ApiError carrying the API's `code` and `detail`.
   */
  async function api(method, path, options) {
    const { json, form, token, extraHeaders } = options || {};
    const headers = Object.assign({ Accept: "application/json" }, extraHeaders || {});
    let body;
    if (json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(json);
    } else if (form !== undefined) {
      body = form;
    }
    if (token) headers.Authorization = "Bearer " + token;
    let response;
    try {
      response = await fetch(path, { method, headers, body, cache: "no-store", credentials: "omit" });
    } catch (error) {
      throw new ApiError(0, "network", String((error && error.message) || error));
    }
    const text = await response.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch (_) {
        data = null;
      }
    }
    if (!response.ok) {
      const code = data && typeof data.code === "string" ? data.code : "http_" + response.status;
      let detail = data ? data.detail : text.slice(0, 300);
      if (detail != null && typeof detail !== "string") detail = JSON.stringify(detail);
      throw new ApiError(response.status, code, detail || response.statusText);
    }
    return data;
  }

  /** A headline in the page's language and the API's own words, for any error. */
  function describeError(error) {
    if (!(error instanceof ApiError)) {
      return { title: t("err_generic", { status: "?" }), detail: String((error && error.message) || error) };
    }
    const candidates = ["err_" + error.code, "err_" + error.status];
    const key = candidates.find((k) => STRINGS.en[k] !== undefined);
    const title = key ? t(key) : t("err_generic", { status: error.status });
    return { title, detail: error.detail && error.detail !== title ? error.detail : "" };
  }

  /** Fill `box` with an error: a headline and, smaller, the API's detail. */
  function renderError(box, error) {
    const { title, detail } = describeError(error);
    box.replaceChildren(
      h("strong", { class: "error-title" }, title),
      detail ? h("span", { class: "error-detail" }, t("err_details") + ": " + detail) : null
    );
    box.hidden = false;
    box.dataset.status = error && error.status != null ? String(error.status) : "";
  }

  /** "¥7.70" from "7.70" and "CNY"; the amount string is shown as-is when Intl cannot format it. */
  function money(amount, currency) {
    const value = Number(amount);
    if (!Number.isFinite(value) || !currency) return String(amount) + (currency ? " " + currency : "");
    try {
      return new Intl.NumberFormat(lang === "zh" ? "zh-CN" : "en-US", {
        style: "currency",
        currency,
        currencyDisplay: "narrowSymbol",
        minimumFractionDigits: 2,
        maximumFractionDigits: 2,
      }).format(value);
    } catch (_) {
      return String(amount) + " " + currency;
    }
  }

  /** Element builder: h("td", {class: "x", dataset: {sku}, onclick: fn}, "text", child). Text is never HTML. */
  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value == null || value === false) continue;
      if (key === "class") el.className = value;
      else if (key === "dataset") Object.assign(el.dataset, value);
      else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
      else if (key in el && typeof value !== "string") el[key] = value;
      else el.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child == null || child === false) continue;
      el.append(child instanceof Node ? child : String(child));
    }
    return el;
  }

  const SVG_NS = "http://www.w3.org/2000/svg";
  function s(tag, attrs, ...children) {
    const el = document.createElementNS(SVG_NS, tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value != null) el.setAttribute(key, String(value));
    }
    for (const child of children.flat()) {
      if (child == null) continue;
      el.append(child instanceof Node ? child : String(child));
    }
    return el;
  }

  /** One colour per receipt line: distinct, readable under white digits, none of them the "unknown" red. */
  const PALETTE = [
    "#2563eb", "#16a34a", "#d97706", "#9333ea", "#0891b2", "#db2777",
    "#65a30d", "#4f46e5", "#0d9488", "#b45309", "#7c3aed", "#0369a1",
  ];
  const UNKNOWN_COLOUR = "#dc2626";
  const DOUBT_COLOUR = "#d97706"; // a near tie the customer is asked about

  /** A token for the Idempotency-Key header: a retried POST is answered once. */
  function requestKey() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  function lineColour(index) {
    return PALETTE[index % PALETTE.length];
  }

  /** Resolves when the <img> has loaded (true) or failed to (false). */
  function imageLoaded(img) {
    if (img.complete && img.naturalWidth > 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      img.addEventListener("load", () => resolve(true), { once: true });
      img.addEventListener("error", () => resolve(false), { once: true });
    });
  }

  window.TS = {
    t, plural, applyI18n, setLang, initI18n, get lang() { return lang; },
    api, ApiError, describeError, renderError, money, h, s,
    lineColour, UNKNOWN_COLOUR, DOUBT_COLOUR, requestKey, imageLoaded,
  };
})();
