// senn's explorer: browse a SENN's explanations and steer its concepts, offline. The prediction is recomputed
// here as logits_c = Σ_k θ_kc(x) h_k with θ(x) fixed, exactly as senn.intervene does. Every name from the
// user's data is set as text (textContent, attribute values), never as markup.
"use strict";

const DATA = JSON.parse(document.getElementById("data").textContent);
const EXAMPLES = DATA.examples;
const CLASSIFY = DATA.task !== "regression";
const names = DATA.concepts.map((c) => c.name); // editable on the concepts tab
let current = 0; // the example shown
let steered = {}; // concept index -> the value it is set to, for the example shown

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "text") node.textContent = value;
    else if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

const fmt = (v) => (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : v.toFixed(4));

// The model's outputs from concepts h (K) and relevances θ (K × C), read as senn.tasks reads them.
function outputs(h, theta) {
  const logits = theta[0].map(() => 0);
  h.forEach((value, k) => theta[k].forEach((t, c) => { logits[c] += t * value; }));
  let probabilities, prediction;
  if (DATA.task === "multiclass") {
    const top = Math.max(...logits);
    const e = logits.map((l) => Math.exp(l - top));
    const total = e.reduce((a, b) => a + b, 0);
    probabilities = e.map((v) => v / total);
    prediction = logits.indexOf(top);
  } else if (DATA.task === "binary") {
    const p = 1 / (1 + Math.exp(-logits[0]));
    probabilities = [p];
    prediction = logits[0] > 0 ? 1 : 0;
  } else {
    probabilities = logits.slice();
    prediction = logits[0];
  }
  const confidence = DATA.task === "multiclass" ? probabilities[prediction]
    : DATA.task === "binary" ? (prediction === 1 ? probabilities[0] : 1 - probabilities[0]) : NaN;
  const explained = DATA.task === "multiclass" ? prediction : 0; // the output column the relevances explain
  return { logits, probabilities, prediction, confidence, explained };
}

const original = EXAMPLES.map((e) => outputs(e.h, e.theta));
const marks = {}; // concept -> the values of its true concept's states 0 and 1 ("set all true concepts" uses them)
if (DATA.truth) DATA.truth.columns.forEach((k, j) => { marks[k] = DATA.truth.values[j]; });
const className = (c) => (CLASSIFY ? DATA.classes[c] ?? `class ${c}` : Number(c).toFixed(4));
const wrong = (i) => CLASSIFY && original[i].prediction !== EXAMPLES[i].label;

function inputView(example, large) {
  if (example.image) return el("img", { src: example.image, alt: `example ${example.id}`, class: large ? "" : "thumb" });
  const entries = Object.entries(example.raw);
  if (!large) return el("div", { class: "row-text", text: `row ${example.id}`, title: entries.map(([k, v]) => `${k}=${v}`).join(", ") });
  return el("table", {}, ...entries.map(([k, v]) => el("tr", {}, el("td", { class: "name", text: k }),
    el("td", { text: typeof v === "number" ? String(v) : v }))));
}

// ---- gallery: filters and sorting ----
function fillFilter() {
  const filter = document.getElementById("filter");
  const options = [["all", "all examples"]];
  if (CLASSIFY) {
    options.push(["wrong", "misclassified"]);
    DATA.classes.forEach((name, c) => options.push([`true:${c}`, `true class: ${name}`]));
    DATA.classes.forEach((name, c) => options.push([`pred:${c}`, `predicted: ${name}`]));
  }
  for (const [value, text] of options) filter.append(el("option", { value, text }));
}

function shown() {
  const filter = document.getElementById("filter").value;
  let rows = EXAMPLES.map((_, i) => i).filter((i) => {
    if (filter === "wrong") return wrong(i);
    if (filter.startsWith("true:")) return EXAMPLES[i].label === Number(filter.slice(5));
    if (filter.startsWith("pred:")) return original[i].prediction === Number(filter.slice(5));
    return true;
  });
  const sort = document.getElementById("sort").value;
  if (sort !== "index" && CLASSIFY) {
    const sign = sort === "confidence-asc" ? 1 : -1;
    rows = rows.sort((a, b) => sign * (original[a].confidence - original[b].confidence));
  }
  return rows;
}

function renderGallery() {
  const rows = shown();
  document.getElementById("count").textContent = `${rows.length} of ${EXAMPLES.length} examples`;
  const gallery = document.getElementById("gallery");
  gallery.replaceChildren(...rows.map((i) => {
    const o = original[i];
    const caption = CLASSIFY ? `${className(o.prediction)} (${o.confidence.toFixed(2)})` : `${fmt(o.prediction)}`;
    return el("div", { class: `card${wrong(i) ? " wrong" : ""}${i === current ? " selected" : ""}`,
      "data-index": i, onclick: () => select(i) },
      inputView(EXAMPLES[i], false), el("div", { text: caption }),
      el("div", { class: "row-text", text: `true ${className(EXAMPLES[i].label)}` }));
  }));
}

// ---- one example: its concepts, steered with sliders ----
function select(i) {
  current = i;
  steered = {};
  renderGallery();
  renderDetail();
}

function concepts() {
  const h = EXAMPLES[current].h.slice();
  for (const [k, v] of Object.entries(steered)) h[k] = v;
  return h;
}

function setAllTrue() {
  const { columns, values } = DATA.truth;
  EXAMPLES[current].annotations.forEach((a, j) => { if (a !== null) steered[columns[j]] = values[j][a]; });
  renderDetail();
}

function renderDetail() {
  const example = EXAMPLES[current];
  const h = concepts();
  const o = outputs(h, example.theta);
  const theta = example.theta.map((row) => row[o.explained]);
  const order = example.h.map((_, k) => k) // ranked by the unsteered contributions: rows stay put while steering
    .sort((a, b) => Math.abs(example.theta[b][original[current].explained] * example.h[b])
      - Math.abs(example.theta[a][original[current].explained] * example.h[a]));
  const largest = Math.max(...h.map((v, k) => Math.abs(v * theta[k])), 1e-12);
  const headline = el("div", { class: "headline" });
  if (CLASSIFY) {
    headline.append(el("span", { id: "predicted", "data-class": o.prediction,
      text: `predicted ${className(o.prediction)}` }), ` (p = ${o.confidence.toFixed(4)}) · `,
    el("span", { class: o.prediction !== example.label ? "wrong" : "", text: `true ${className(example.label)}` }));
  } else {
    headline.append(el("span", { id: "predicted", "data-class": o.prediction, text: `output ${fmt(o.prediction)}` }),
      ` · true ${fmt(example.label)}`);
  }
  const logits = el("table", { id: "logits" }, el("tr", {}, el("th", { text: "output" }),
    el("th", { text: CLASSIFY ? "logit" : "value" }), el("th", { text: CLASSIFY ? "probability" : "" })),
  ...o.logits.map((l, c) => el("tr", {}, el("td", { class: "name", text: DATA.outputs[c] }),
    el("td", { class: "value", "data-output": c, "data-value": l, text: fmt(l) }),
    el("td", { text: CLASSIFY ? o.probabilities[c].toFixed(4) : "" }))));
  const rows = order.map((k) => {
    const contribution = h[k] * theta[k];
    const c = DATA.concepts[k];
    const ticks = marks[k] || []; // the values that stand for a true concept's states 0 and 1, marked on the track
    const slider = el("input", { type: "range", class: "slider", "data-concept": k, step: "any",
      min: Math.min(c.min, h[k], ...ticks), max: Math.max(c.max, h[k], ...ticks), value: h[k],
      oninput: (event) => { steered[k] = Number(event.target.value); renderDetail(); } });
    if (ticks.length) slider.setAttribute("list", `marks-${k}`);
    return el("tr", { class: k in steered ? "steered" : "" }, el("td", { class: "name", text: names[k] }),
      el("td", { class: "concept-value", "data-concept": k, text: fmt(h[k]) }), el("td", { text: fmt(theta[k]) }),
      el("td", { text: fmt(contribution) }),
      el("td", {}, el("span", { class: `bar ${contribution >= 0 ? "pos" : "neg"}`,
        style: `width:${Math.round(60 * Math.abs(contribution) / largest)}px` })), el("td", {}, slider));
  });
  const target = CLASSIFY ? `θ for ${DATA.outputs[o.explained]}` : "θ";
  const table = el("table", { id: "concepts" }, el("tr", {}, ...["concept", "value h", target, "contribution θ·h", "", "steer"]
    .map((text) => el("th", { text }))), ...rows);
  const buttons = el("div", { class: "controls" },
    el("button", { id: "reset", type: "button", text: "reset", onclick: () => { steered = {}; renderDetail(); } }));
  if (DATA.truth && example.annotations) {
    buttons.append(el("button", { id: "set-true", type: "button", text: "set all true concepts", onclick: setAllTrue }));
  }
  const truth = DATA.truth && example.annotations
    ? el("div", { class: "hint", text: "true concepts: " + DATA.truth.names.map((n, j) => `${n}=${example.annotations[j] ?? "?"}`).join(", ") })
    : "";
  const lists = Object.entries(marks).map(([k, values]) => el("datalist", { id: `marks-${k}` },
    ...values.map((v, state) => el("option", { value: v, label: `state ${state}` }))));
  document.getElementById("detail").replaceChildren(...lists, el("h2", { text: `example ${example.id} of the ${DATA.split} split` }),
    el("div", { class: "input" }, inputView(example, true)), headline, logits, el("h2", { text: "concepts, ranked by contribution" }),
    table, buttons, truth);
}

// ---- concepts: names, top examples, views, alignment with the true concepts ----
function strip(indices) {
  return el("div", { class: "strip" }, ...indices.map((i) => {
    const view = inputView(EXAMPLES[i], false);
    view.addEventListener("click", () => { showTab("examples"); select(i); });
    view.setAttribute("title", `example ${EXAMPLES[i].id}`);
    return view;
  }));
}

function renderConcepts() {
  const cards = DATA.concepts.map((c, k) => {
    const name = el("input", { class: "concept-name", "data-concept": k, value: names[k],
      oninput: (event) => { names[k] = event.target.value; } });
    const parts = [name, el("div", { class: "hint", text: `concept ${k + 1}; slider range ${fmt(c.min)} … ${fmt(c.max)}` }),
      el("h2", { text: "top examples by activation" }), strip(c.top_activation),
      el("h2", { text: "top examples by contrast" }), strip(c.top_contrast)];
    if (c.traversal) {
      parts.push(el("h2", { text: "decoder traversal (low → high)" }),
        el("div", { class: "strip" }, ...c.traversal.map((src) => el("img", { src, alt: "traversal step" }))));
    }
    if (c.feature_visualization) {
      parts.push(el("h2", { text: "feature visualization" }),
        el("div", { class: "strip" }, el("img", { src: c.feature_visualization, alt: "feature visualization" })));
    }
    if (DATA.truth) {
      const auc = DATA.truth.auc[k];
      parts.push(el("h2", { text: "alignment with the true concepts (held-out AUC)" }),
        el("table", {}, ...DATA.truth.names.map((n, j) => el("tr", {}, el("td", { class: "name", text: n }),
          el("td", { text: auc[j].toFixed(3) })))));
    }
    return el("div", { class: "concept" }, ...parts);
  });
  document.getElementById("concept-cards").replaceChildren(...cards);
}

function exportNames() {
  const blob = new Blob([JSON.stringify({ concept_names: names }, null, 2) + "\n"], { type: "application/json" });
  const link = el("a", { href: URL.createObjectURL(blob), download: "concept_names.json" });
  document.body.append(link);
  link.click();
  link.remove();
}

function showTab(which) {
  document.getElementById("examples-view").hidden = which !== "examples";
  document.getElementById("concepts-view").hidden = which !== "concepts";
  document.getElementById("tab-examples").classList.toggle("active", which === "examples");
  document.getElementById("tab-concepts").classList.toggle("active", which === "concepts");
  if (which === "examples") renderDetail();
}

fillFilter();
document.getElementById("filter").addEventListener("change", renderGallery);
document.getElementById("sort").addEventListener("change", renderGallery);
document.getElementById("tab-examples").addEventListener("click", () => showTab("examples"));
document.getElementById("tab-concepts").addEventListener("click", () => showTab("concepts"));
document.getElementById("export").addEventListener("click", exportNames);
renderConcepts();
select(0);
