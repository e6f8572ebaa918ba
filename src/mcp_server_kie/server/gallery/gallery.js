// The gallery page: lists jobs through /api/media, follows /events, and opens one job in a
// dialog. Plain JavaScript, no build step. Text from the library is only ever set as text.
"use strict";

const $ = (selector, root = document) => root.querySelector(selector);
const CHANGE_HEADERS = { "Content-Type": "application/json", "X-Requested-With": "kie-gallery" };
const RUNNING = new Set(["pending", "processing"]);

const state = {
  kind: "",
  model: "",
  status: "",
  query: "",
  sort: "newest",
  cursor: null,
  generation: 0, // bumps on every reload, so a slow answer to an old query is dropped
  listed: false,
  jobs: new Map(), // job_id -> the latest JobResult seen
  detail: null, // the job_id open in the dialog
  opener: null, // the element to give focus back to when the dialog closes
};

const grid = $("#grid");
const pageSize = Number(document.body.dataset.pageSize) || 24;
const phrase = document.body.dataset.confirmation;

async function api(path, options = {}) {
  const response = await fetch(path, { credentials: "same-origin", ...options });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || `${response.status} ${response.statusText}`);
  return body;
}

function say(text, isError = false) {
  const message = $("#message");
  message.textContent = text;
  message.classList.toggle("error", isError);
}

// ------------------------------------------------------------------ the list

function filters() {
  const params = new URLSearchParams({ sort: state.sort, limit: String(pageSize) });
  for (const name of ["kind", "model", "status", "query"]) {
    if (state[name]) params.set(name, state[name]);
  }
  return params;
}

async function reload() {
  state.listed = true;
  const generation = ++state.generation;
  grid.setAttribute("aria-busy", "true");
  try {
    const page = await api(`/api/media?${filters()}`);
    if (generation !== state.generation) return;
    grid.replaceChildren(...page.items.map((job) => card(job)));
    state.cursor = page.next_cursor;
    say("");
  } catch (error) {
    if (generation !== state.generation) return;
    grid.replaceChildren();
    state.cursor = null;
    say(`Could not load the library: ${error.message}`, true);
  } finally {
    if (generation === state.generation) settle();
  }
}

async function loadMore() {
  const generation = state.generation;
  const more = $("#more");
  more.disabled = true;
  try {
    const params = filters();
    params.set("cursor", state.cursor);
    const page = await api(`/api/media?${params}`);
    if (generation !== state.generation) return;
    for (const job of page.items) {
      if (!cardFor(job.job_id)) grid.append(card(job));
    }
    state.cursor = page.next_cursor;
  } catch (error) {
    say(`Could not load more: ${error.message}`, true);
  } finally {
    more.disabled = false;
    settle();
  }
}

function settle() {
  grid.setAttribute("aria-busy", "false");
  $("#more").hidden = !state.cursor;
  const empty = $("#empty");
  empty.hidden = grid.children.length > 0;
  const filtered = state.kind || state.model || state.status || state.query;
  empty.textContent = filtered
    ? "Nothing matches these filters."
    : "Nothing here yet. Ask your assistant to generate an image, a video or audio: it shows up here at once.";
  document.body.dataset.ready = "1";
}

function cardFor(jobId) {
  return grid.querySelector(`li[data-job-id="${CSS.escape(jobId)}"]`);
}

function thumbnailUrl(job, output) {
  if (output.thumbnail_url) return `/media/${output.asset_id}/thumbnail`;
  return job.kind === "image" ? `/media/${output.asset_id}` : null;
}

function card(job) {
  const item = $("#card-template").content.firstElementChild.cloneNode(true);
  fill(item, job);
  return item;
}

function fill(item, job) {
  state.jobs.set(job.job_id, job);
  Object.assign(item.dataset, {
    jobId: job.job_id,
    status: job.status,
    kind: job.kind,
    model: job.model,
  });
  const open = $(".open", item);
  open.setAttribute("aria-label", `${job.kind}, ${job.status}: ${job.prompt}`);
  open.title = job.prompt;
  $(".prompt", item).textContent = job.prompt;
  $(".badge", item).textContent = job.status;
  $(".model", item).textContent = job.model;
  $(".model", item).title = job.model;

  const first = job.outputs[0];
  const source = first ? thumbnailUrl(job, first) : null;
  const image = $("img", item);
  if (source) {
    if (image.getAttribute("src") !== source) image.src = source;
    image.alt = job.prompt;
  }
  image.hidden = !source;
  // A video without a poster image shows its own first frame, fetched once it scrolls into view.
  const still = $("video.still", item);
  const frame = first && !source && job.kind === "video" ? `/media/${first.asset_id}#t=0.5` : "";
  if (still.dataset.src !== frame) {
    still.dataset.src = frame;
    still.removeAttribute("src");
    if (frame) stills.observe(still);
  }
  still.hidden = !frame;
  // Audio plays in the card itself (a player beside the button: controls cannot nest in it).
  const listen = $("audio.listen", item);
  const sound = first && job.kind === "audio" ? `/media/${first.asset_id}` : "";
  if (listen.dataset.src !== sound) {
    listen.dataset.src = sound;
    if (sound) listen.src = sound;
    else listen.removeAttribute("src");
  }
  listen.hidden = !sound;
  listen.setAttribute("aria-label", `Play: ${job.prompt}`);
  const placeholder = $(".placeholder", item);
  placeholder.hidden = Boolean(source || frame);
  placeholder.textContent =
    job.status === "processing" && job.provider_state
      ? `${job.provider_state}…`
      : sound
        ? `♪ ${first.duration_seconds ? `${Math.round(first.duration_seconds)} s` : ""}`
        : "";
  $(".play", item).hidden = !(first && job.kind === "video");
  const count = $(".count", item);
  count.hidden = job.outputs.length < 2;
  count.textContent = `${job.outputs.length} files`;
  const error = $(".error-text", item);
  error.hidden = !job.error;
  error.textContent = job.error ? job.error.message : "";
}

const stills = new IntersectionObserver(
  (entries) => {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      const still = entry.target;
      stills.unobserve(still);
      if (still.dataset.src) {
        still.preload = "metadata";
        still.src = still.dataset.src;
      }
    }
  },
  { rootMargin: "200px" },
);

function words(text) {
  return text.toLowerCase().match(/[\p{L}\p{N}_]+/gu) || [];
}

function matches(job) {
  if (state.kind && job.kind !== state.kind) return false;
  if (state.model && job.model !== state.model) return false;
  if (state.status && job.status !== state.status) return false;
  if (state.query) {
    const wanted = words(state.query);
    const have = words(job.prompt);
    return wanted.length > 0 && wanted.every((w) => have.some((h) => h.startsWith(w)));
  }
  return true;
}

// Whether a job that just changed, `a`, goes before the loaded job `b` in the current order.
// Times are to the second; within one second the live one is taken as the newer.
function before(a, b) {
  if (a.created_at === b.created_at) return state.sort === "newest";
  return state.sort === "newest" ? a.created_at > b.created_at : a.created_at < b.created_at;
}

// A job changed (from /events): update its card, or add it where the current view puts it.
// One that sorts after every loaded card belongs to a page not loaded yet: "Load more" brings it.
function onJob(job) {
  const existing = cardFor(job.job_id);
  if (existing) {
    fill(existing, job);
  } else if (matches(job)) {
    const next = [...grid.children].find((item) => before(job, state.jobs.get(item.dataset.jobId)));
    if (next || !state.cursor) {
      const item = card(job);
      item.classList.add("new");
      grid.insertBefore(item, next || null);
      settle();
    }
  }
  if (state.detail === job.job_id) showDetail(job.job_id, false);
}

// ------------------------------------------------------------------ live events

function connect() {
  const events = new EventSource("/events");
  let down = false;
  const live = (on) => {
    document.body.dataset.live = on ? "on" : "off";
    $("#live .text").textContent = on ? "Live" : "Reconnecting…";
  };
  events.addEventListener("open", () => {
    live(true);
    if (!state.listed || down) reload(); // whatever changed while not listening
    down = false;
  });
  events.addEventListener("error", () => {
    live(false);
    down = true;
    if (!state.listed) reload();
  });
  events.addEventListener("job", (event) => onJob(JSON.parse(event.data)));
  events.addEventListener("resync", () => reload());
}

// ------------------------------------------------------------------ one job

function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "—";
}

function bytes(count) {
  if (count < 1024 * 1024) return `${Math.max(1, Math.round(count / 1024))} KB`;
  return `${(count / 1024 / 1024).toFixed(1)} MB`;
}

function viewer(job) {
  const parts = job.outputs.map((output) => {
    const box = document.createElement("div");
    box.className = "output";
    box.dataset.assetId = output.asset_id;
    let media;
    if (job.kind === "audio") {
      media = document.createElement("audio");
      media.controls = true;
      media.preload = "metadata";
      media.setAttribute("aria-label", job.prompt);
    } else if (job.kind === "video") {
      media = document.createElement("video");
      media.controls = true;
      media.preload = "metadata";
      media.playsInline = true;
      if (output.thumbnail_url) media.poster = `/media/${output.asset_id}/thumbnail`;
      media.setAttribute("aria-label", job.prompt);
    } else {
      media = document.createElement("img");
      media.alt = job.prompt;
    }
    media.src = `/media/${output.asset_id}`;
    box.append(media);
    if (job.outputs.length > 1) {
      const actions = document.createElement("div");
      actions.className = "output-actions";
      const download = document.createElement("a");
      download.className = "button";
      download.href = `/media/${output.asset_id}?download=1`;
      download.download = "";
      download.textContent = `Download ${output.index + 1}`;
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "button danger-outline";
      remove.textContent = `Delete ${output.index + 1}…`;
      remove.addEventListener("click", () => deleteAsset(job, output));
      actions.append(download, remove);
      box.append(actions);
    }
    return box;
  });
  if (parts.length === 0) {
    const note = document.createElement("p");
    note.className = "state";
    note.textContent = RUNNING.has(job.status)
      ? `Generating… (${job.provider_state || job.status}). It appears here when it is ready.`
      : job.error
        ? "This job failed: nothing was made."
        : "No files are left for this job.";
    parts.push(note);
  }
  return parts;
}

async function showDetail(jobId, fresh) {
  let detail;
  try {
    detail = await api(`/api/jobs/${encodeURIComponent(jobId)}`);
  } catch (error) {
    say(`Could not open ${jobId}: ${error.message}`, true);
    return;
  }
  if (!fresh && state.detail !== jobId) return;
  const job = detail.job;
  state.detail = jobId;
  const dialog = $("#detail");
  dialog.dataset.jobId = jobId;
  dialog.dataset.status = job.status;

  const shown = [...$("#viewer").querySelectorAll(".output")].map((box) => box.dataset.assetId);
  const wanted = job.outputs.map((output) => output.asset_id);
  if (fresh || shown.join() !== wanted.join()) $("#viewer").replaceChildren(...viewer(job));

  const badge = $("#detail-status");
  badge.textContent = job.status;
  badge.dataset.status = job.status;
  $("#detail-title").textContent = job.prompt;
  const error = $("#detail-error");
  error.hidden = !job.error;
  error.textContent = job.error ? `${job.error.message} ${job.error.next_step}` : "";

  const first = job.outputs[0];
  const facts = [
    ["Model", job.model],
    ["Kind", job.kind],
    ["Aspect ratio", detail.aspect_ratio],
    ["Size", first && first.width ? `${first.width} × ${first.height} px` : null],
    ["Length", first && first.duration_seconds ? `${first.duration_seconds} s` : null],
    ["File", first ? `${bytes(first.bytes)}, ${first.mime_type}` : null],
    [
      "Credits",
      job.credits != null
        ? String(job.credits)
        : job.expected_credits != null
          ? `${job.expected_credits} (expected)`
          : null,
    ],
    ["kie.ai state", job.provider_state],
    ["Created", when(job.created_at)],
    ["Updated", when(job.updated_at)],
    ["Job id", job.job_id],
  ];
  const list = $("#detail-facts");
  list.replaceChildren();
  for (const [name, value] of facts) {
    if (value == null || value === "") continue;
    const term = document.createElement("dt");
    term.textContent = name;
    const text = document.createElement("dd");
    text.textContent = value;
    list.append(term, text);
  }

  $("#detail-history").replaceChildren(
    ...detail.events.map((event) => {
      const item = document.createElement("li");
      const to = document.createElement("strong");
      to.textContent = event.to;
      item.append(`${when(event.at)} · `, to, ` (${event.cause})`);
      return item;
    }),
  );

  const download = $("#detail-download");
  download.hidden = !first;
  if (first) download.href = `/media/${first.asset_id}?download=1`;
  const remove = $("#detail-delete");
  remove.disabled = RUNNING.has(job.status);
  remove.title = remove.disabled ? "Still running: it can be deleted once it finishes." : "";

  const card = cardFor(jobId);
  if (card) fill(card, job);
  if (fresh && !dialog.open) dialog.showModal();
  if (fresh) $("#detail-close").focus();
}

function closeDetail() {
  const dialog = $("#detail");
  if (dialog.open) dialog.close();
}

$("#detail").addEventListener("close", () => {
  for (const player of $("#viewer").querySelectorAll("video, audio")) player.pause();
  state.detail = null;
  if (state.opener && state.opener.isConnected) state.opener.focus();
});
$("#detail").addEventListener("click", (event) => {
  if (event.target === event.currentTarget) closeDetail(); // a click on the backdrop
});
$("#detail-close").addEventListener("click", closeDetail);

// ------------------------------------------------------------------ deleting

function confirmAction({ title, text, action, typed = false }) {
  const dialog = $("#confirm");
  const input = $("#confirm-input");
  const ok = $("#confirm-ok");
  $("#confirm-title").textContent = title;
  $("#confirm-text").textContent = text;
  $("#confirm-typed").hidden = !typed;
  input.value = "";
  ok.textContent = action;
  ok.disabled = typed;
  input.oninput = () => {
    ok.disabled = input.value.trim() !== phrase;
  };
  $("#confirm-cancel").onclick = () => dialog.close("cancel");
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.showModal();
    (typed ? input : $("#confirm-cancel")).focus();
  });
}

function change(path, method, body) {
  return api(path, { method, headers: CHANGE_HEADERS, body: body && JSON.stringify(body) });
}

function freed(result) {
  return `${result.files_deleted} file(s), ${bytes(result.bytes_freed)} freed`;
}

async function deleteJob(jobId) {
  const job = state.jobs.get(jobId);
  const yes = await confirmAction({
    title: "Delete this job?",
    text: `“${job ? job.prompt : jobId}” and its files are removed from this computer. This cannot be undone.`,
    action: "Delete",
  });
  if (!yes) return;
  try {
    const result = await change(`/api/jobs/${encodeURIComponent(jobId)}`, "DELETE");
    closeDetail();
    const item = cardFor(jobId);
    const next = item && (item.nextElementSibling || item.previousElementSibling);
    if (item) item.remove();
    state.jobs.delete(jobId);
    if (next) $(".open", next).focus();
    settle();
    say(`Deleted: ${freed(result)}.`);
  } catch (error) {
    say(`Not deleted: ${error.message}`, true);
  }
}

async function deleteAsset(job, output) {
  const yes = await confirmAction({
    title: `Delete file ${output.index + 1}?`,
    text: "The file is removed from this computer; the job's other files stay.",
    action: "Delete",
  });
  if (!yes) return;
  try {
    const result = await change(`/api/assets/${encodeURIComponent(output.asset_id)}`, "DELETE");
    say(`Deleted: ${freed(result)}.`);
    await showDetail(job.job_id, false);
  } catch (error) {
    say(`Not deleted: ${error.message}`, true);
  }
}

async function clearAll() {
  const yes = await confirmAction({
    title: "Delete everything?",
    text: "Every finished job and all its files are removed from this computer. Jobs still running stay. This cannot be undone.",
    action: "Delete everything",
    typed: true,
  });
  if (!yes) return;
  try {
    const result = await change("/api/clear", "POST", { confirm: phrase });
    await reload();
    say(`Deleted ${result.jobs_deleted} job(s): ${freed(result)}.`);
  } catch (error) {
    say(`Nothing deleted: ${error.message}`, true);
  }
}

$("#detail-delete").addEventListener("click", () => deleteJob(state.detail));
$("#clear-all").addEventListener("click", clearAll);

// ------------------------------------------------------------------ controls and keys

const tabs = [...document.querySelectorAll('[role="tab"]')];

function selectTab(tab) {
  for (const other of tabs) {
    const selected = other === tab;
    other.setAttribute("aria-selected", String(selected));
    other.tabIndex = selected ? 0 : -1;
  }
  $("#panel").setAttribute("aria-labelledby", tab.id);
  state.kind = tab.dataset.kind;
  reload();
}

for (const tab of tabs) {
  tab.addEventListener("click", () => selectTab(tab));
  tab.addEventListener("keydown", (event) => {
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (!step) return;
    event.preventDefault();
    const next = tabs[(tabs.indexOf(tab) + step + tabs.length) % tabs.length];
    next.focus();
    selectTab(next);
  });
}

for (const name of ["model", "status", "sort"]) {
  $(`#${name}`).addEventListener("change", (event) => {
    state[name] = event.target.value;
    reload();
  });
}

let typing = null;
$("#query").addEventListener("input", (event) => {
  clearTimeout(typing);
  typing = setTimeout(() => {
    state.query = event.target.value.trim();
    reload();
  }, 250);
});

$("#more").addEventListener("click", loadMore);

grid.addEventListener("click", (event) => {
  const open = event.target.closest(".open");
  if (!open) return;
  state.opener = open;
  showDetail(open.closest("li").dataset.jobId, true);
});

// Arrow keys move between cards, as in a grid; Tab still walks them in order.
grid.addEventListener("keydown", (event) => {
  const cards = [...grid.querySelectorAll(".open")];
  const index = cards.indexOf(document.activeElement);
  if (index < 0) return;
  const top = cards[0].getBoundingClientRect().top;
  const columns = Math.max(1, cards.filter((c) => c.getBoundingClientRect().top === top).length);
  const moves = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: columns, ArrowUp: -columns };
  let target = null;
  if (event.key in moves) target = index + moves[event.key];
  if (event.key === "Home") target = 0;
  if (event.key === "End") target = cards.length - 1;
  if (target === null || target < 0 || target >= cards.length) return;
  event.preventDefault();
  cards[target].focus();
  cards[target].scrollIntoView({ block: "nearest" });
});

connect();
