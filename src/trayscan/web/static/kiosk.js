/* The self-checkout kiosk: tray photo (camera or file) -> POST /v1/checkout -> boxes on the photo + receipt. */
"use strict";

(function () {
  const { t, plural, h, s, money } = window.TS;
  const $ = (id) => document.getElementById(id);

  const root = $("kiosk");
  const photo = $("photo");
  const overlay = $("overlay");
  const video = $("camera-video");
  const fileInput = $("file-input");
  const cameraInput = $("camera-input");

  const state = {
    receipt: null, // the last checkout answer
    error: null, // the last ApiError
    objectUrl: null,
    stream: null,
    request: 0, // increases on every checkout and reset: a late answer of an old request is dropped
    choosing: null, // the doubtful item whose candidates are shown
    products: new Map(), // SKU -> public product (name, price) of the candidates shown
  };

  /** welcome | camera | busy | result | error: the CSS shows the panels of each phase. */
  function setPhase(phase) {
    root.dataset.phase = phase;
    const busy = phase === "busy";
    for (const id of ["take-photo", "choose-photo"]) $(id).disabled = busy;
    $("next-customer").hidden = phase !== "result";
    $("try-again").hidden = phase !== "error";
    $("receipt-empty").hidden = phase === "result" || phase === "error";
  }

  function clearResult() {
    state.receipt = null;
    state.error = null;
    overlay.replaceChildren();
    $("receipt-lines").replaceChildren();
    $("receipt").hidden = true;
    $("receipt-total").hidden = true;
    $("call-staff").hidden = true;
    $("check-items").hidden = true;
    closeChooser();
    $("no-items").hidden = true;
    $("error").hidden = true;
    $("camera-notice").hidden = true;
  }

  function reset() {
    state.request += 1;
    stopCamera();
    clearResult();
    if (state.objectUrl) URL.revokeObjectURL(state.objectUrl);
    state.objectUrl = null;
    photo.removeAttribute("src");
    fileInput.value = "";
    cameraInput.value = "";
    setPhase("welcome");
    window.scrollTo(0, 0);
  }

  // checkout

  async function checkout(blob, filename) {
    const request = ++state.request;
    clearResult();
    if (state.objectUrl) URL.revokeObjectURL(state.objectUrl);
    state.objectUrl = URL.createObjectURL(blob);
    photo.src = state.objectUrl;
    const shown = window.TS.imageLoaded(photo);
    setPhase("busy");
    const form = new FormData();
    form.append("image", blob, filename || "tray.jpg");
    try {
      const receipt = await window.TS.api("POST", "/v1/checkout", { form });
      const loaded = await shown;
      if (request !== state.request) return;
      state.receipt = receipt;
      renderReceipt();
      if (loaded) drawBoxes();
      setPhase("result");
    } catch (error) {
      if (request !== state.request) return;
      state.error = error;
      window.TS.renderError($("error"), error);
      setPhase("error");
    }
  }

  function renderReceipt() {
    const receipt = state.receipt;
    if (!receipt) return;
    const lines = receipt.items.map((item, index) =>
      h(
        "tr",
        {
          class: "line",
          dataset: {
            line: index + 1,
            sku: item.sku,
            quantity: item.quantity,
            unitPrice: item.unit_price,
            lineTotal: item.line_total,
          },
          onpointerenter: () => highlight(index + 1),
          onpointerleave: () => highlight(null),
        },
        h("td", { class: "c-no" }, badge(index + 1, window.TS.lineColour(index))),
        h("td", { class: "c-item", title: item.sku }, h("span", { class: "item-name" }, item.name)),
        h("td", { class: "c-qty" }, String(item.quantity)),
        h("td", { class: "c-money" }, money(item.unit_price, receipt.currency)),
        h("td", { class: "c-money c-line" }, money(item.line_total, receipt.currency))
      )
    );
    $("receipt-lines").replaceChildren(...lines);
    $("receipt").hidden = lines.length === 0;
    $("receipt-total").hidden = false;
    $("total-amount").textContent = money(receipt.total, receipt.currency);
    $("total-amount").dataset.total = receipt.total;
    $("total-amount").dataset.currency = receipt.currency;
    $("item-count").textContent = plural("items", receipt.item_count);
    const unknown = receipt.unrecognized.length;
    $("call-staff").hidden = unknown === 0;
    $("call-staff").dataset.count = String(unknown);
    $("call-staff-text").textContent = unknown ? plural("call_staff", unknown) : "";
    $("no-items").hidden = !(receipt.items.length === 0 && unknown === 0);
    renderChecks();
  }

  // doubtful items: the customer chooses among the candidates (POST /v1/receipts/{id}/corrections)

  /** Items to ask about: near ties on the receipt and unrecognised items no one has called staff for. */
  function doubtful() {
    const receipt = state.receipt;
    if (!receipt) return [];
    const ties = receipt.items.flatMap((line) =>
      line.detections.filter((d) => d.certainty === "tie").map((d) => ({ item: d.item, candidates: d.candidates }))
    );
    const unknown = receipt.unrecognized
      .filter((u) => !u.staff_requested && u.candidates.length > 0)
      .map((u) => ({ item: u.item, candidates: u.candidates }));
    return ties.concat(unknown).sort((a, b) => a.item - b.item);
  }

  function renderChecks() {
    const items = doubtful();
    $("check-items").hidden = items.length === 0;
    $("check-list").replaceChildren(
      ...items.map((entry, index) =>
        h(
          "button",
          { type: "button", class: "btn btn-secondary", dataset: { item: entry.item }, onclick: () => openChooser(entry) },
          t("check_item", { n: index + 1 })
        )
      )
    );
  }

  async function productOf(sku) {
    if (!state.products.has(sku)) {
      try {
        state.products.set(sku, await window.TS.api("GET", "/v1/products/" + encodeURIComponent(sku)));
      } catch (_) {
        state.products.set(sku, null); // removed since: not offered
      }
    }
    return state.products.get(sku);
  }

  async function openChooser(entry) {
    const request = state.request;
    state.choosing = entry;
    highlightItem(entry.item);
    const products = await Promise.all(entry.candidates.map((c) => productOf(c.sku)));
    if (request !== state.request || state.choosing !== entry) return;
    const options = products.filter(Boolean).map((product) => {
      const image = h("img", { alt: "", src: "/v1/products/" + encodeURIComponent(product.sku) + "/thumbnail" });
      image.addEventListener("error", () => { image.hidden = true; });
      return h(
        "button",
        { type: "button", class: "chooser-option", dataset: { sku: product.sku }, onclick: () => choose(entry, { sku: product.sku }) },
        image,
        h("span", { class: "option-name" }, product.name),
        h("span", { class: "option-price" }, money(product.price, product.currency))
      );
    });
    $("chooser-options").replaceChildren(...options);
    if (!$("chooser").open) $("chooser").showModal();
  }

  function closeChooser() {
    state.choosing = null;
    if ($("chooser").open) $("chooser").close();
    $("chooser-options").replaceChildren();
    highlightItem(null);
  }

  async function choose(entry, answer) {
    const receipt = state.receipt;
    const request = state.request;
    try {
      const corrected = await window.TS.api("POST", "/v1/receipts/" + receipt.receipt_id + "/corrections", {
        json: Object.assign({ item: entry.item }, answer),
        extraHeaders: { "Idempotency-Key": window.TS.requestKey() },
      });
      if (request !== state.request) return;
      state.receipt = corrected;
      closeChooser();
      renderReceipt();
      drawBoxes();
    } catch (error) {
      if (request !== state.request) return;
      window.TS.renderError($("error"), error);
    }
  }

  function highlightItem(item) {
    overlay.querySelectorAll(".box").forEach((g) => {
      g.classList.toggle("chosen", item != null && g.dataset.item === String(item));
    });
  }

  function badge(number, colour) {
    const el = h("span", { class: "badge" }, String(number));
    el.style.backgroundColor = colour;
    return el;
  }

  /** Numbered boxes on the photo, coloured like their receipt line; unrecognised items as red "?" boxes. */
  function drawBoxes() {
    const receipt = state.receipt;
    const width = photo.naturalWidth;
    const height = photo.naturalHeight;
    overlay.replaceChildren();
    if (!receipt || !width || !height) return;
    overlay.setAttribute("viewBox", `0 0 ${width} ${height}`);
    overlay.setAttribute("preserveAspectRatio", "none");
    const radius = Math.max(width, height) / 55;
    const asked = new Map(doubtful().map((entry) => [entry.item, entry]));
    receipt.items.forEach((item, index) => {
      for (const detection of item.detections) {
        const tie = asked.has(detection.item);
        const colour = tie ? window.TS.DOUBT_COLOUR : window.TS.lineColour(index);
        overlay.append(boxShape(detection.box, colour, String(index + 1), radius, false, detection.item, asked));
      }
    });
    for (const item of receipt.unrecognized) {
      overlay.append(boxShape(item.box, window.TS.UNKNOWN_COLOUR, "?", radius, true, item.item, asked));
    }
  }

  function boxShape(box, colour, label, radius, unknown, item, asked) {
    const [x1, y1, x2, y2] = box;
    const w = Math.max(x2 - x1, 1);
    const hgt = Math.max(y2 - y1, 1);
    const cx = x1 + Math.min(radius * 1.1, w / 2);
    const cy = y1 + Math.min(radius * 1.1, hgt / 2);
    const common = { x: x1, y: y1, width: w, height: hgt, rx: radius / 4, "vector-effect": "non-scaling-stroke" };
    const entry = asked.get(item);
    const group = s(
      "g",
      {
        class: (unknown ? "box box-unknown" : "box") + (entry ? " box-doubt" : ""),
        "data-line": unknown ? "unknown" : label,
        "data-item": String(item),
      },
      s("rect", Object.assign({ class: "box-halo", fill: "none", stroke: "#ffffff", "stroke-width": 7 }, common)),
      s(
        "rect",
        Object.assign(
          {
            class: "box-edge",
            fill: colour,
            "fill-opacity": unknown ? 0.22 : 0.1,
            stroke: colour,
            "stroke-width": 4,
            "stroke-dasharray": unknown ? "12 8" : null,
          },
          common
        )
      ),
      s("circle", { cx, cy, r: radius, fill: colour, stroke: "#ffffff", "stroke-width": radius / 6 }),
      s(
        "text",
        {
          x: cx,
          y: cy,
          "text-anchor": "middle",
          "dominant-baseline": "central",
          "font-size": radius * (label.length > 1 ? 1.05 : 1.3),
          "font-weight": 700,
          fill: "#ffffff",
        },
        label
      )
    );
    if (entry) group.addEventListener("click", () => openChooser(entry));
    return group;
  }

  function highlight(line) {
    overlay.classList.toggle("has-focus", line != null);
    overlay.querySelectorAll(".box").forEach((g) => {
      g.classList.toggle("focus", line != null && g.dataset.line === String(line));
    });
  }

  // photo sources

  async function openCamera() {
    const media = navigator.mediaDevices;
    if (!media || !media.getUserMedia || !window.isSecureContext) {
      cameraInput.click(); // phones and tablets: the system camera through the file picker
      return;
    }
    clearResult();
    setPhase("camera");
    $("camera-status").hidden = false;
    try {
      state.stream = await media.getUserMedia({
        video: { facingMode: { ideal: "environment" }, width: { ideal: 1920 }, height: { ideal: 1080 } },
        audio: false,
      });
      video.srcObject = state.stream;
      await video.play();
      $("camera-status").hidden = true;
    } catch (_) {
      stopCamera();
      setPhase("welcome");
      showNotice("camera_unavailable");
    }
  }

  function stopCamera() {
    if (state.stream) state.stream.getTracks().forEach((track) => track.stop());
    state.stream = null;
    video.srcObject = null;
  }

  function capture() {
    if (!video.videoWidth) return;
    const canvas = document.createElement("canvas");
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0);
    canvas.toBlob(
      (blob) => {
        stopCamera();
        if (blob) checkout(blob, "camera.jpg");
      },
      "image/jpeg",
      0.92
    );
  }

  function showNotice(key) {
    const notice = $("camera-notice");
    notice.dataset.i18n = key;
    notice.textContent = t(key);
    notice.hidden = false;
  }

  function onFile(input) {
    const file = input.files && input.files[0];
    if (file) checkout(file, file.name);
  }

  // A tray photo dropped on the page (a desk demo without a camera) is checked out like a chosen one.
  function onDrop(event) {
    event.preventDefault();
    const file = event.dataTransfer && event.dataTransfer.files[0];
    if (file && root.dataset.phase !== "busy" && root.dataset.phase !== "camera") checkout(file, file.name);
  }

  // Back to the welcome screen when a finished checkout is left alone, ready for the next shopper.
  const IDLE_RESET_MS = 120000;
  let idleTimer = null;
  function armIdleReset() {
    clearTimeout(idleTimer);
    const phase = root.dataset.phase;
    if (phase === "result" || phase === "error") idleTimer = setTimeout(reset, IDLE_RESET_MS);
  }

  // wiring

  $("take-photo").addEventListener("click", openCamera);
  $("choose-photo").addEventListener("click", () => fileInput.click());
  fileInput.addEventListener("change", () => onFile(fileInput));
  cameraInput.addEventListener("change", () => onFile(cameraInput));
  $("capture").addEventListener("click", capture);
  $("camera-cancel").addEventListener("click", reset);
  $("next-customer").addEventListener("click", reset);
  $("try-again").addEventListener("click", reset);
  $("chooser-close").addEventListener("click", closeChooser);
  $("chooser").addEventListener("cancel", closeChooser); // Escape
  $("chooser-staff").addEventListener("click", () => {
    if (state.choosing) choose(state.choosing, { staff: true });
  });
  document.addEventListener("dragover", (event) => event.preventDefault());
  document.addEventListener("drop", onDrop);
  for (const type of ["pointerdown", "keydown", "wheel"]) document.addEventListener(type, armIdleReset, true);
  new MutationObserver(armIdleReset).observe(root, { attributes: true, attributeFilter: ["data-phase"] });

  window.TS.initI18n(() => {
    // labels drawn by this script: money formats and counts follow the language too
    if (state.receipt) renderReceipt();
    if (state.error) window.TS.renderError($("error"), state.error);
  });
  setPhase("welcome");
  document.body.classList.add("ready");
})();
