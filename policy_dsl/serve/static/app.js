// 就业政策筛查页面：每次只问一个还需要的事实，回答后立即重新判定。
// 只用浏览器自带的功能，不引用任何外部资源。
"use strict";

const $ = (id) => document.getElementById(id);
const STATUS = { applies: "符合", does_not_apply: "不符合", undetermined: "待定", determined: "已确定" };
const state = { set: null, subject: null, clauses: [], facts: {}, skip: [], answers: [], last: null, detail: {} };

function esc(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}
function cite(c) { return c ? [c.document, c.article].filter(Boolean).join(" ") : ""; }
function checked(name) { return document.querySelector(`input[name=${name}]:checked`).value; }

async function api(path, body) {
  const init = body === undefined ? {} : { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
  const response = await fetch(path, init);
  const data = await response.json();
  if (!response.ok) throw data;
  return data;
}

async function loadPolicies() {
  const name = checked("region"), subject = checked("subject");
  $("name-label").textContent = subject === "unit" ? "单位名称" : "姓名";
  if (!state.detail[name]) state.detail[name] = await api(`/v1/sets/${name}`);
  const list = $("policy-list");
  list.textContent = "";
  for (const c of state.detail[name].clauses) {
    if (c.kind !== "computable" || c.subject !== subject) continue;
    const label = document.createElement("label");
    label.innerHTML = `<input type="checkbox" name="clause" value="${esc(c.id)}" checked> ${esc(c.title)} <span class="cite">${esc(cite(c.citation))}</span>`;
    list.append(label);
  }
}

function facts() {
  const out = {};
  if ($("as-of").value) out.as_of = $("as-of").value;
  if (state.set === "fushun") out.region = { city: "抚顺市" };
  const name = $("applicant-name").value.trim();
  if (state.subject === "unit" && name) (out.unit ??= {}).name = name;
  for (const [path, value] of Object.entries(state.facts)) {
    const [subject, key] = path.split(".");
    if (key === undefined) out[subject] = value;
    else (out[subject] ??= {})[key] = value;
  }
  return out;
}

async function step() {
  const body = { facts: facts(), subject: state.subject, clauses: state.clauses, skip: state.skip };
  const data = await api(`/v1/sets/${state.set}/next-question`, body);
  state.last = data;
  renderResults(data);
  if (data.question) showQuestion(data.question);
  else finish(data);
  document.body.dataset.step = String(Number(document.body.dataset.step) + 1);
}

function showQuestion(q) {
  const form = $("question");
  form.dataset.fact = q.fact;
  form.dataset.type = q.type;
  $("count").textContent = String(state.answers.length + 1);
  $("q-label").textContent = q.label + (q.type === "money" && !q.label.includes("元") ? "（元）" : "");
  const names = [...new Set(q.conclusions.map((key) => label(key).split("·").pop()))];
  $("q-why").textContent = "与此有关：" + names.slice(0, 5).join("、") + (names.length > 5 ? " 等" : "");
  $("q-error").textContent = "";
  const box = $("q-input");
  box.textContent = "";
  if (q.type === "bool" || q.type === "enum") {
    for (const v of q.values) box.insertAdjacentHTML("beforeend", `<label class="choice"><input type="radio" name="answer" value="${esc(v.value)}"> ${esc(v.label)}</label>`);
  } else if (q.type === "set") {
    for (const v of q.values) box.insertAdjacentHTML("beforeend", `<label class="choice"><input type="checkbox" name="answer" value="${esc(v.value)}"> ${esc(v.label)}</label>`);
    box.insertAdjacentHTML("beforeend", `<p class="why">都不是就不勾选，直接点“确定”。</p>`);
  } else if (q.type === "date") {
    box.innerHTML = `<input type="date" name="answer" required>`;
  } else {
    const hint = { int: "整数", money: "金额，如 50000.00", rate: "小数，如 0.6 表示 60%", decimal: "数字" }[q.type];
    box.innerHTML = `<input type="text" inputmode="decimal" name="answer" placeholder="${esc(hint)}" required>`;
  }
  $("ask").hidden = false;
  $("done").hidden = true;
  const first = box.querySelector("input");
  if (first) first.focus();
}

function label(key) {
  const hit = (state.last?.open || []).find((o) => o.conclusion === key);
  return hit ? hit.label : key;
}

function readAnswer(type) {
  const inputs = [...document.querySelectorAll("#q-input input[name=answer]")];
  if (type === "set") {
    const values = inputs.filter((i) => i.checked).map((i) => i.value);
    return { value: values, text: inputs.filter((i) => i.checked).map((i) => i.parentElement.textContent.trim()).join("、") || "都不是" };
  }
  if (type === "bool" || type === "enum") {
    const picked = inputs.find((i) => i.checked);
    if (!picked) throw new Error("请选择一项");
    const value = type === "bool" ? picked.value === "true" : picked.value;
    return { value, text: picked.parentElement.textContent.trim() };
  }
  const text = inputs[0].value.trim();
  if (type === "date") {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) throw new Error("请填写日期");
    return { value: text, text };
  }
  if (type === "int") {
    if (!/^\d+$/.test(text)) throw new Error("请填写整数");
    return { value: Number(text), text };
  }
  if (!/^\d+(\.\d+)?$/.test(text)) throw new Error("请填写数字，如 50000.00");
  return { value: text, text: type === "money" ? `${text}元` : text };  // 十进制字符串原样传给服务，不经浮点
}

async function answer(event) {
  event.preventDefault();
  const form = $("question");
  const path = form.dataset.fact, type = form.dataset.type;
  let read;
  try { read = readAnswer(type); } catch (e) { $("q-error").textContent = e.message; return; }
  state.facts[path] = read.value;
  state.answers.push({ path, label: $("q-label").textContent, text: read.text });
  try {
    await step();
  } catch (err) {  // the service refused the answer (e.g. 0 insured staff to divide by): ask again
    delete state.facts[path];
    state.answers.pop();
    $("q-error").textContent = problemText(err);
    return;
  }
  renderAnswers();
}

function problemText(err) {
  if (err && err.problems) return err.problems.map((p) => `${p.path}：${p.message}`).join("；");
  return (err && err.message) || String(err);
}

async function skip() {
  state.skip.push($("question").dataset.fact);
  await step();
}

function renderAnswers() {
  $("answers").hidden = state.answers.length === 0;
  $("answer-list").innerHTML = state.answers.map((a) =>
    `<li>${esc(a.label)}：<b>${esc(a.text)}</b> <button type="button" class="change" data-fact="${esc(a.path)}">修改</button></li>`).join("");
}

// 修改一个回答：去掉它，重新判定；下一题由服务重新选（通常就是这一题）
async function change(path) {
  delete state.facts[path];
  state.answers = state.answers.filter((a) => a.path !== path);
  renderAnswers();
  await step();
}

function renderResults(data) {
  $("results").hidden = false;
  $("result-list").innerHTML = data.results.map((r) => `
    <div class="policy ${r.status}" data-clause="${esc(r.id)}" data-status="${r.status}">
      <h3>${esc(r.title)}<span class="badge">${STATUS[r.status]}</span></h3>
      <table>${r.conclusions.map((c) => `<tr data-conclusion="${esc(c.name)}"><td>${esc(c.label)}</td><td class="${c.determined ? "" : "pending"}">${esc(c.text)}</td></tr>`).join("")}</table>
      <p class="cite">依据：${esc(cite(r.citation))}${r.departments.length ? "　经办：" + esc(r.departments.join("、")) : ""}</p>
      <details><summary>判定理由与出处</summary><pre class="explanation">${esc(r.explanation)}</pre></details>
    </div>`).join("");
}

function finish(data) {
  $("ask").hidden = true;
  $("done").hidden = false;
  const open = data.unsettled.map((u) => `${u.label}（${u.reason}）`);
  $("done-text").textContent = `共回答 ${state.answers.length} 个问题，能由回答确定的结论都已确定。` +
    (open.length ? `仍待确定：${open.join("；")}。` : "");
}

// 告知书：服务端按同一套规则生成（与 policy explain --format notice 相同），放在 iframe 里供打印
async function showNotice() {
  const response = await fetch(`/v1/sets/${state.set}/explain?format=notice`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(facts()) });
  if (!response.ok) throw await response.json();
  const frame = $("notice-frame");
  frame.onload = () => { frame.style.height = `${frame.contentDocument.documentElement.scrollHeight + 32}px`; };
  frame.srcdoc = await response.text();
  document.body.classList.add("notice-mode");
  $("notice").hidden = false;
}

async function begin() {
  state.set = checked("region");
  state.subject = checked("subject");
  state.clauses = [...document.querySelectorAll("input[name=clause]:checked")].map((i) => i.value);
  state.facts = {}; state.skip = []; state.answers = [];
  renderAnswers();
  $("start").hidden = true;
  await step();
}

document.addEventListener("DOMContentLoaded", () => {
  $("as-of").value = new Date().toISOString().slice(0, 10);
  for (const input of document.querySelectorAll("input[name=subject], input[name=region]")) input.addEventListener("change", loadPolicies);
  $("begin").addEventListener("click", () => begin().catch((e) => alert(problemText(e))));
  $("question").addEventListener("submit", answer);
  $("skip").addEventListener("click", () => skip().catch((e) => { $("q-error").textContent = problemText(e); }));
  $("show-notice").addEventListener("click", () => showNotice().catch((e) => alert(problemText(e))));
  $("print").addEventListener("click", () => $("notice-frame").contentWindow.print());
  $("close-notice").addEventListener("click", () => { document.body.classList.remove("notice-mode"); $("notice").hidden = true; });
  $("restart").addEventListener("click", () => location.reload());
  $("answer-list").addEventListener("click", (event) => {
    const fact = event.target.dataset?.fact;
    if (fact) change(fact).catch((e) => alert(problemText(e)));
  });
  loadPolicies().catch((e) => { $("policy-list").textContent = problemText(e); });
});
