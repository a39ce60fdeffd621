/* The staff page: sign in with the admin token, list/search products, add a product with its photos,
   change a price, deactivate or delete a product, delete a photo. The token lives in sessionStorage only. */
"use strict";

(function () {
  const TS = window.TS;
  const { t, h, money } = TS;
  const $ = (id) => document.getElementById(id);
  const enc = encodeURIComponent;

  const TOKEN_KEY = "trayscan.adminToken";

  const state = {
    token: readToken(),
    products: [],
    query: "",
    expanded: new Set(), // SKUs whose photo panel is open
    panels: new Map(), // sku -> detail panel element, kept across re-renders
    renderers: new Set(), // re-draw texts drawn by this script when the language changes
    review: [], // doubtful and corrected checkout items awaiting review
  };

  function readToken() {
    try {
      return sessionStorage.getItem(TOKEN_KEY);
    } catch (_) {
      return null;
    }
  }

  function storeToken(token) {
    state.token = token;
    try {
      if (token) sessionStorage.setItem(TOKEN_KEY, token);
      else sessionStorage.removeItem(TOKEN_KEY);
    } catch (_) {
      /* storage disabled: the token lives in memory until the page is closed */
    }
  }

  /** An admin call; a 401/403 answer signs the user out. */
  async function adminApi(method, path, options) {
    try {
      return await TS.api(method, path, Object.assign({}, options, { token: state.token }));
    } catch (error) {
      if (error.status === 401 || error.status === 403) signOut("session_ended");
      throw error;
    }
  }

  // sign-in

  async function verifyToken(token) {
    if (!/^[\x21-\x7e]+$/.test(token)) {
      // not sendable in an HTTP header, so it cannot be the token
      throw new TS.ApiError(403, "forbidden", "the token has characters a token cannot have");
    }
    await TS.api("GET", "/v1/admin/session", { token }); // 401/403: not the token
  }

  function showSigninError(key, error) {
    const box = $("signin-error");
    if (error && !key) {
      TS.renderError(box, error);
      return;
    }
    box.replaceChildren(
      h("strong", { class: "error-title", "data-i18n": key }, t(key)),
      error && error.detail ? h("span", { class: "error-detail" }, t("err_details") + ": " + error.detail) : null
    );
    box.dataset.status = error ? String(error.status) : "";
    box.hidden = false;
  }

  async function signIn(event) {
    event.preventDefault();
    const input = $("token");
    const token = input.value.trim();
    $("signin-error").hidden = true;
    if (!token) {
      showSigninError("signin_missing");
      input.focus();
      return;
    }
    const button = $("signin-submit");
    button.disabled = true;
    button.textContent = t("signing_in");
    try {
      await verifyToken(token);
      storeToken(token);
      input.value = "";
      await showApp();
    } catch (error) {
      if (error.status === 401) showSigninError("signin_401", error);
      else if (error.status === 403) showSigninError("signin_403", error);
      else showSigninError(null, error);
      input.select();
    } finally {
      button.disabled = false;
      button.textContent = t("signin");
    }
  }

  function signOut(reasonKey) {
    storeToken(null);
    $("app").hidden = true;
    $("signout").hidden = true;
    $("signin-card").hidden = false;
    $("product-rows").replaceChildren();
    state.products = [];
    state.panels.clear();
    state.expanded.clear();
    if (reasonKey) showSigninError(reasonKey);
    else $("signin-error").hidden = true;
    $("token").focus();
  }

  async function showApp() {
    $("signin-card").hidden = true;
    $("app").hidden = false;
    $("signout").hidden = false;
    await Promise.all([loadProducts(), loadReview()]);
  }

  // review of doubtful and corrected checkout items (GET /v1/admin/review)

  async function loadReview() {
    $("review-error").hidden = true;
    try {
      state.review = (await adminApi("GET", "/v1/admin/review?limit=100")).data;
    } catch (error) {
      state.review = [];
      TS.renderError($("review-error"), error);
    }
    renderReview();
  }

  function renderReview() {
    const entries = state.review || [];
    $("review-count").textContent = TS.plural("review_count", entries.length);
    const list = entries.map(reviewCard);
    $("review-list").replaceChildren(...(list.length ? list : [h("p", { class: "muted" }, t("review_empty"))]));
  }

  // Why an item is on the review list, as the API names it -> its label.
  const REASON_LABELS = {
    tie: "reason_tie",
    unrecognized: "reason_unrecognized",
    corrected: "reason_corrected",
    staff_requested: "reason_staff_requested",
  };

  function reviewCard(entry) {
    const canvas = h("canvas", { width: 200, height: 200 });
    const sku = h("input", { class: "input review-sku", value: entry.billed_sku || (entry.candidates[0] || {}).sku || "", spellcheck: "false", "aria-label": t("review_sku") });
    const status = h("div", { class: "status" });
    const card = h("div", { class: "review-item", dataset: { receipt: entry.receipt_id, item: entry.item } });
    const candidates = entry.candidates.map((c) =>
      h("button", { type: "button", class: "btn btn-secondary btn-small", dataset: { sku: c.sku }, onclick: () => { sku.value = c.sku; } }, c.sku)
    );
    const act = (outcome) => review(entry, outcome, sku.value.trim(), status, card);
    card.append(
      canvas,
      h("div", { class: "review-body" },
        h("strong", {}, t(REASON_LABELS[entry.reason] || "reason_unrecognized")),
        h("span", { class: "muted" }, entry.billed_sku ? t("review_billed", { sku: entry.billed_sku }) : ""),
        h("div", { class: "review-candidates" }, ...candidates),
        h("div", { class: "review-actions" },
          sku,
          h("button", { type: "button", class: "btn btn-primary btn-small review-confirm", disabled: !entry.photo_kept, onclick: () => act("confirmed") }, t("review_confirm")),
          h("button", { type: "button", class: "btn btn-secondary btn-small review-not-product", onclick: () => act("not_product") }, t("review_not_product")),
          h("button", { type: "button", class: "btn btn-secondary btn-small review-dismiss", onclick: () => act("dismissed") }, t("review_dismiss"))
        ),
        entry.photo_kept ? "" : h("span", { class: "muted" }, t("review_no_photo")),
        status
      )
    );
    if (entry.crop_url) {
      adminBlob(entry.crop_url)
        .then((blob) => loadBitmap(blob))
        .then((img) => {
          const scale = Math.min(canvas.width / img.width, canvas.height / img.height);
          canvas.getContext("2d").drawImage(img, (canvas.width - img.width * scale) / 2, (canvas.height - img.height * scale) / 2, img.width * scale, img.height * scale);
        })
        .catch(() => canvas.remove());
    } else {
      canvas.remove();
    }
    return card;
  }

  async function review(entry, outcome, sku, status, card) {
    const body = outcome === "confirmed" ? { outcome, sku } : { outcome };
    card.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    try {
      const result = await adminApi("POST", "/v1/admin/receipts/" + entry.receipt_id + "/items/" + entry.item + "/review", { json: body });
      toast(outcome === "confirmed" ? t("review_confirmed", { sku: result.sku, id: result.image_id }) : t("review_done"));
      state.review = state.review.filter((e) => e !== entry);
      renderReview();
      if (outcome === "confirmed") loadProducts();
    } catch (error) {
      card.querySelectorAll("button").forEach((b) => { b.disabled = false; });
      const { title, detail } = TS.describeError(error);
      status.textContent = detail ? title + " " + detail : title;
      status.className = "status error";
    }
  }

  // products

  async function loadProducts() {
    const list = [];
    const limit = 500;
    $("products-error").hidden = true;
    $("product-count").textContent = t("loading");
    try {
      for (let offset = 0; ; ) {
        const page = await TS.api("GET", `/v1/products?offset=${offset}&limit=${limit}`);
        list.push(...page.data);
        offset += page.data.length;
        if (page.data.length < limit || offset >= page.count) break;
      }
    } catch (error) {
      TS.renderError($("products-error"), error);
      $("product-count").textContent = "";
      return;
    }
    state.products = list;
    renderProducts();
  }

  function upsertProduct(product) {
    const index = state.products.findIndex((p) => p.sku === product.sku);
    if (index >= 0) state.products[index] = product;
    else {
      state.products.push(product);
      state.products.sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));
    }
  }

  function findProduct(sku) {
    return state.products.find((p) => p.sku === sku);
  }

  function matches(product, query) {
    if (!query) return true;
    const q = query.toLowerCase();
    return product.sku.toLowerCase().includes(q) || product.name.toLowerCase().includes(q);
  }

  function renderProducts() {
    const query = state.query.trim();
    const shown = state.products.filter((p) => matches(p, query));
    const rows = [];
    for (const product of shown) {
      rows.push(productRow(product));
      if (state.expanded.has(product.sku)) rows.push(detailRow(product));
    }
    $("product-rows").replaceChildren(...rows);
    const total = state.products.length;
    $("product-count").textContent = query
      ? t("count_filtered", { shown: shown.length, n: total })
      : t("count_all", { n: total });
    const empty = $("products-empty");
    empty.hidden = shown.length > 0;
    empty.textContent = total === 0 ? t("no_products") : t("no_match", { q: query });
  }

  function productRow(product) {
    const priceInput = h("input", {
      class: "input",
      value: product.price,
      inputmode: "decimal",
      "aria-label": t("col_price") + " " + product.sku,
    });
    const saveButton = h("button", { type: "button", class: "btn btn-primary btn-small save-price" }, t("save"));
    const priceBox = h("div", { class: "price-edit" }, priceInput, h("span", { class: "currency" }, product.currency), saveButton);
    priceInput.addEventListener("input", () => priceBox.classList.toggle("dirty", priceInput.value.trim() !== product.price));
    priceInput.addEventListener("keydown", (event) => {
      if (event.key === "Enter") savePrice(product.sku, priceInput, saveButton);
      if (event.key === "Escape") {
        priceInput.value = product.price;
        priceBox.classList.remove("dirty");
      }
    });
    saveButton.addEventListener("click", () => savePrice(product.sku, priceInput, saveButton));

    const toggle = h("input", {
      type: "checkbox",
      class: "active-toggle",
      checked: product.active,
      "aria-label": t("col_active") + " " + product.sku,
    });
    toggle.addEventListener("change", () => setActive(product.sku, toggle));

    const open = state.expanded.has(product.sku);
    return h(
      "tr",
      { class: product.active ? "product" : "product inactive", dataset: { sku: product.sku } },
      h("td", { class: "c-sku" }, product.sku),
      h("td", { class: "c-name" }, product.name),
      h("td", { class: "c-price" }, priceBox),
      h("td", { class: "c-photos" }, String(product.image_count)),
      h("td", { class: "c-active" }, h("label", { class: "switch" }, toggle, h("span", { class: "track" }))),
      h(
        "td",
        { class: "c-actions" },
        h(
          "button",
          {
            type: "button",
            class: "btn btn-secondary btn-small photos-btn",
            "aria-expanded": String(open),
            onclick: () => togglePanel(product.sku),
          },
          t("photos_btn") + (open ? " ▴" : " ▾")
        ),
        h(
          "button",
          { type: "button", class: "btn btn-danger btn-small delete-product", onclick: () => deleteProduct(product.sku) },
          t("delete")
        )
      )
    );
  }

  async function savePrice(sku, input, button) {
    const price = input.value.trim();
    button.disabled = true;
    try {
      const product = await adminApi("PATCH", "/v1/admin/products/" + enc(sku), { json: { price } });
      upsertProduct(product);
      toast(t("price_saved", { sku, price: money(product.price, product.currency) }));
      renderProducts();
    } catch (error) {
      toastError(error);
      button.disabled = false;
      input.focus();
    }
  }

  async function setActive(sku, toggle) {
    const active = toggle.checked;
    toggle.disabled = true;
    try {
      const product = await adminApi("PATCH", "/v1/admin/products/" + enc(sku), { json: { active } });
      upsertProduct(product);
      toast(t(product.active ? "activated" : "deactivated", { sku }));
      renderProducts();
    } catch (error) {
      toggle.checked = !active;
      toggle.disabled = false;
      toastError(error);
    }
  }

  async function deleteProduct(sku) {
    const product = findProduct(sku);
    if (!product) return;
    const ok = await confirmDialog(
      t("confirm_delete_product", { sku, name: product.name, n: product.image_count })
    );
    if (!ok) return;
    try {
      await adminApi("DELETE", "/v1/admin/products/" + enc(sku));
      state.products = state.products.filter((p) => p.sku !== sku);
      state.expanded.delete(sku);
      state.panels.delete(sku);
      toast(t("product_deleted", { sku }));
      renderProducts();
    } catch (error) {
      toastError(error);
      if (error.status === 404) loadProducts();
    }
  }

  // the photo panel of a product

  function togglePanel(sku) {
    if (state.expanded.has(sku)) state.expanded.delete(sku);
    else state.expanded.add(sku);
    renderProducts();
  }

  function detailRow(product) {
    let panel = state.panels.get(product.sku);
    if (!panel) {
      panel = buildPanel(product.sku);
      state.panels.set(product.sku, panel);
    }
    return h("tr", { class: "detail", dataset: { sku: product.sku } }, h("td", { colspan: 6 }, panel));
  }

  function buildPanel(sku) {
    const files = h("input", { type: "file", accept: "image/*", multiple: true, class: "panel-photos" });
    const kiosk = h("input", { type: "checkbox", class: "panel-kiosk" });
    const kioskLabel = h("label", { class: "check" }, kiosk, " ", h("span", { dataset: { i18n: "kiosk_camera" } }, t("kiosk_camera")));
    const upload = h("button", { type: "button", class: "btn btn-primary btn-small panel-upload" }, t("upload"));
    const title = h("h3", {}, t("photos_of", { sku }));
    const status = h("div", { class: "status" });
    const gallery = h("div", { class: "gallery" });
    const panel = h(
      "div",
      { class: "panel-body", dataset: { sku } },
      h("div", { class: "detail-head" }, title, h("span", { class: "muted" }, t("add_photos")), files, kioskLabel, upload),
      status,
      gallery
    );
    upload.addEventListener("click", async () => {
      const chosen = Array.from(files.files || []);
      if (!chosen.length) {
        files.click();
        return;
      }
      upload.disabled = true;
      upload.textContent = t("enrolling");
      await enrol(sku, chosen, status, kiosk.checked);
      files.value = "";
      upload.disabled = false;
      upload.textContent = t("upload");
      loadPhotos(sku, gallery);
    });
    panel.renderTexts = () => {
      title.textContent = t("photos_of", { sku });
      upload.textContent = t("upload");
      panel.querySelector(".detail-head .muted").textContent = t("add_photos");
      loadPhotos(sku, gallery);
    };
    loadPhotos(sku, gallery);
    return panel;
  }

  /** The photos stored for a product (`GET /v1/admin/products/{sku}/images`), each with its delete button. */
  async function loadPhotos(sku, gallery) {
    gallery.replaceChildren(h("p", { class: "muted" }, t("photos_loading")));
    try {
      const answer = await adminApi("GET", `/v1/admin/products/${enc(sku)}/images`);
      const cards = answer.data.map((item) => storedPhotoCard(sku, item));
      gallery.replaceChildren(...(cards.length ? cards : [h("p", { class: "muted" }, t("photos_none"))]));
    } catch (error) {
      const box = h("div", { class: "alert alert-error" });
      TS.renderError(box, error);
      gallery.replaceChildren(box);
    }
  }

  function storedPhotoCard(sku, item) {
    const canvas = h("canvas", { width: 300, height: 240 });
    const card = h("div", { class: "photo", dataset: { imageId: item.id } });
    card.append(
      canvas,
      h("strong", {}, t("photo_label", { id: item.id })),
      h("span", { class: "muted" }, boxText(item.box)),
      deletePhotoButton(sku, item.id, card)
    );
    // The file needs the bearer token, so an <img src> cannot load it: fetch it and draw it from a blob: URL.
    adminBlob(item.url)
      .then((blob) => drawPhoto(canvas, blob, item.box))
      .catch(() => canvas.remove()); // a lost file: the card still offers the delete button
    return card;
  }

  /** An admin file as a Blob; the token goes in the Authorization header, never in the URL. */
  async function adminBlob(url) {
    const headers = { Authorization: "Bearer " + state.token };
    const response = await fetch(url, { headers, cache: "no-store", credentials: "omit" });
    if (!response.ok) throw new Error(String(response.status));
    return response.blob();
  }

  function deletePhotoButton(sku, id, card) {
    return h(
      "button",
      { type: "button", class: "btn btn-danger btn-small delete-photo", onclick: () => deletePhoto(sku, id, card) },
      t("delete_photo")
    );
  }

  async function deletePhoto(sku, id, card) {
    if (!(await confirmDialog(t("confirm_delete_photo", { id, sku })))) return;
    try {
      await adminApi("DELETE", "/v1/admin/images/" + enc(id));
      card.classList.add("deleted");
      card.querySelectorAll("button").forEach((b) => (b.disabled = true));
      const product = findProduct(sku);
      if (product) {
        product.image_count = Math.max(0, product.image_count - 1);
        const cell = document.querySelector(`tr.product[data-sku="${CSS.escape(sku)}"] .c-photos`);
        if (cell) cell.textContent = String(product.image_count);
      }
      toast(t("photo_deleted", { id }));
    } catch (error) {
      toastError(error);
    }
  }

  // enrolment

  /** POST the photos of `sku`; show each photo's detected box and crop, and any confusable-product warning.
   * `kioskCamera`: the photos were taken by the kiosk's own camera (their product size is kept for the size check). */
  async function enrol(sku, files, status, kioskCamera = false) {
    const form = new FormData();
    for (const file of files) form.append("images", file, file.name);
    form.append("camera", kioskCamera ? "kiosk" : "other");
    try {
      const result = await adminApi("POST", `/v1/admin/products/${enc(sku)}/images`, { form });
      const product = findProduct(sku);
      if (product) product.image_count += result.enrolled;
      status.renderTexts = () => renderEnrolment(status, files, result);
      status.renderTexts();
      updateCount(sku);
      return result;
    } catch (error) {
      const box = h("div", { class: "alert alert-error enrol-error" });
      status.renderTexts = () => TS.renderError(box, error);
      status.renderTexts();
      status.replaceChildren(box);
      return null;
    }
  }

  function updateCount(sku) {
    const product = findProduct(sku);
    const cell = document.querySelector(`tr.product[data-sku="${CSS.escape(sku)}"] .c-photos`);
    if (product && cell) cell.textContent = String(product.image_count);
  }

  function renderEnrolment(status, files, result) {
    const blocks = [
      h("div", { class: "alert alert-ok enrol-ok" }, t("enrolled_n", { n: result.enrolled, sku: result.sku })),
    ];
    if (result.warnings.length) {
      blocks.push(
        h(
          "div",
          { class: "alert alert-warn confusable", role: "alert" },
          h("strong", {}, t("warnings_title")),
          h(
            "ul",
            { class: "warnings" },
            result.warnings.map((w) =>
              h(
                "li",
                { dataset: { sku: w.sku } },
                t("warning_confusable", { sku: w.sku, sim: Number(w.similarity).toFixed(2) }),
                w.message ? h("span", { class: "muted" }, " (" + w.message + ")") : null
              )
            )
          )
        )
      );
    }
    const cards = result.images.map((outcome) => outcomeCard(result.sku, outcome, files[outcome.index]));
    blocks.push(h("div", { class: "outcomes" }, cards));
    status.replaceChildren(...blocks);
  }

  function outcomeCard(sku, outcome, file) {
    const whole = outcome.status !== "enrolled";
    const full = h("canvas", { class: "full", width: 150, height: 120 });
    const crop = h("canvas", { class: "crop", width: 90, height: 120, title: t("outcome_crop") });
    if (file) {
      drawPhoto(full, file, outcome.box);
      drawCrop(crop, file, outcome.box);
    }
    const card = h(
      "div",
      { class: whole ? "outcome whole" : "outcome", dataset: { imageId: outcome.image_id, status: outcome.status } },
      h(
        "div",
        { class: "outcome-head" },
        h("span", {}, t("outcome_title", { n: outcome.index + 1 })),
        h("span", { class: "muted" }, "#" + outcome.image_id)
      ),
      h("div", { class: "outcome-images" }, full, crop),
      h(
        "p",
        { class: "outcome-text" },
        whole ? t("outcome_whole") : t("outcome_enrolled", { score: Number(outcome.score).toFixed(2) })
      ),
      h("p", { class: "meta" }, (outcome.filename ? outcome.filename + " · " : "") + boxText(outcome.box))
    );
    card.append(deletePhotoButton(sku, outcome.image_id, card));
    return card;
  }

  function boxText(box) {
    return "[" + box.map((v) => Math.round(v)).join(", ") + "]";
  }

  async function loadBitmap(source) {
    const url = URL.createObjectURL(source);
    try {
      const img = new Image();
      img.src = url;
      await img.decode(); // EXIF orientation is applied, as the service does
      return img;
    } finally {
      URL.revokeObjectURL(url);
    }
  }

  /** The whole photo scaled into the canvas, with the detected box drawn on it. */
  async function drawPhoto(canvas, source, box) {
    let img;
    try {
      img = await loadBitmap(source);
    } catch (_) {
      return;
    }
    const scale = Math.min(canvas.width / img.naturalWidth, canvas.height / img.naturalHeight);
    const w = img.naturalWidth * scale;
    const hgt = img.naturalHeight * scale;
    const ox = (canvas.width - w) / 2;
    const oy = (canvas.height - hgt) / 2;
    const ctx = canvas.getContext("2d");
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(img, ox, oy, w, hgt);
    if (box) {
      const [x1, y1, x2, y2] = box;
      ctx.lineWidth = 3;
      ctx.strokeStyle = "#ffffff";
      ctx.strokeRect(ox + x1 * scale, oy + y1 * scale, (x2 - x1) * scale, (y2 - y1) * scale);
      ctx.lineWidth = 2;
      ctx.strokeStyle = "#0f766e";
      ctx.strokeRect(ox + x1 * scale, oy + y1 * scale, (x2 - x1) * scale, (y2 - y1) * scale);
    }
  }

  /** Only the detected box, as the embedder sees it. */
  async function drawCrop(canvas, source, box) {
    let img;
    try {
      img = await loadBitmap(source);
    } catch (_) {
      return;
    }
    const [x1, y1, x2, y2] = box;
    const bw = Math.max(x2 - x1, 1);
    const bh = Math.max(y2 - y1, 1);
    const scale = Math.min(canvas.width / bw, canvas.height / bh);
    const ctx = canvas.getContext("2d");
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(img, x1, y1, bw, bh, (canvas.width - bw * scale) / 2, (canvas.height - bh * scale) / 2, bw * scale, bh * scale);
  }

  // add a product

  function showPhotosChosen() {
    const files = Array.from($("f-photos").files || []);
    $("f-photos-count").textContent = files.length ? TS.plural("photos_chosen", files.length) : "";
    const thumbs = files.slice(0, 20).map((file) => {
      const img = h("img", { alt: file.name });
      const url = URL.createObjectURL(file);
      img.addEventListener("load", () => URL.revokeObjectURL(url), { once: true });
      img.addEventListener("error", () => URL.revokeObjectURL(url), { once: true });
      img.src = url;
      return img;
    });
    $("f-thumbs").replaceChildren(...thumbs);
  }

  async function addProduct(event) {
    event.preventDefault();
    const status = $("add-status");
    status.renderTexts = null;
    const sku = $("f-sku").value.trim();
    const name = $("f-name").value.trim();
    const price = $("f-price").value.trim().replace(",", ".");
    const currency = $("f-currency").value.trim().toUpperCase();
    const files = Array.from($("f-photos").files || []);
    const missing = [
      ["f-sku", sku],
      ["f-name", name],
      ["f-price", price],
    ].filter(([, value]) => !value);
    for (const id of ["f-sku", "f-name", "f-price"]) $(id).removeAttribute("aria-invalid");
    if (missing.length) {
      for (const [id] of missing) $(id).setAttribute("aria-invalid", "true");
      const box = h("div", { class: "alert alert-error" }, h("strong", {}, t("err_validation_error")));
      status.replaceChildren(box);
      $(missing[0][0]).focus();
      return;
    }
    const button = $("add-submit");
    button.disabled = true;
    button.textContent = t("saving");
    const body = { sku, name, price };
    if (currency) body.currency = currency;
    try {
      const product = await adminApi("POST", "/v1/admin/products", { json: body });
      upsertProduct(product);
      renderProducts();
      const created = h("div", { class: "alert alert-ok" }, t("product_created", { sku }));
      status.replaceChildren(created);
      if (files.length) {
        button.textContent = t("enrolling");
        const holder = h("div", { class: "enrolment" });
        status.append(holder);
        const result = await enrol(sku, files, holder, $("f-kiosk").checked);
        if (!result && findProduct(sku)) {
          holder.append(h("p", { class: "muted retry-photos" }, t("retry_photos")));
          state.expanded.add(sku); // its photo panel is where other photos can be tried
        }
      } else {
        status.append(h("div", { class: "alert alert-warn" }, t("no_photos_warning", { sku })));
      }
      $("add-form").reset();
      showPhotosChosen();
      renderProducts();
    } catch (error) {
      const box = h("div", { class: "alert alert-error" });
      TS.renderError(box, error);
      status.replaceChildren(box);
    } finally {
      button.disabled = false;
      button.textContent = t("add_submit");
    }
  }

  // small UI pieces

  function toast(message, kind) {
    const el = h("div", { class: kind === "error" ? "toast error" : "toast", role: "status" }, message);
    $("toasts").append(el);
    setTimeout(() => el.remove(), kind === "error" ? 9000 : 5000);
  }

  function toastError(error) {
    const { title, detail } = TS.describeError(error);
    toast(detail ? title + " " + detail : title, "error");
  }

  function confirmDialog(text) {
    const dialog = $("confirm");
    $("confirm-text").textContent = text;
    return new Promise((resolve) => {
      const finish = (answer) => {
        dialog.close();
        $("confirm-ok").removeEventListener("click", onOk);
        $("confirm-cancel").removeEventListener("click", onCancel);
        dialog.removeEventListener("cancel", onCancel);
        resolve(answer);
      };
      const onOk = () => finish(true);
      const onCancel = () => finish(false);
      $("confirm-ok").addEventListener("click", onOk);
      $("confirm-cancel").addEventListener("click", onCancel);
      dialog.addEventListener("cancel", onCancel);
      dialog.showModal();
      $("confirm-cancel").focus();
    });
  }

  // wiring

  $("signin-form").addEventListener("submit", signIn);
  $("signout").addEventListener("click", () => signOut(null));
  $("add-form").addEventListener("submit", addProduct);
  $("f-photos").addEventListener("change", showPhotosChosen);
  $("search").addEventListener("input", (event) => {
    state.query = event.target.value;
    renderProducts();
  });
  $("refresh").addEventListener("click", loadProducts);
  $("review-refresh").addEventListener("click", loadReview);

  TS.initI18n(() => {
    if (!$("app").hidden) {
      renderProducts();
      renderReview();
    }
    showPhotosChosen();
    const status = $("add-status");
    if (status.renderTexts) status.renderTexts();
    for (const panel of state.panels.values()) if (panel.renderTexts) panel.renderTexts();
    document.querySelectorAll(".enrolment, .panel-body .status").forEach((el) => el.renderTexts && el.renderTexts());
  });

  (async () => {
    if (state.token) {
      try {
        await verifyToken(state.token);
        await showApp();
      } catch (error) {
        if (error.status === 401 || error.status === 403) signOut("session_ended");
        else {
          signOut(null);
          showSigninError(null, error);
        }
      }
    } else {
      $("token").focus();
    }
    document.body.classList.add("ready");
  })();
})();
