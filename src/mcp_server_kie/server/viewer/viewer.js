// The media viewer (MCP Apps view): talks JSON-RPC over postMessage with its host, never the
// network. Files come through the host as MCP resources (media://...) and are shown from
// data: URLs; the live status line asks the server's get_status tool through the host.
"use strict";
(() => {
  const PROTOCOL = "2026-01-26";
  const TERMINAL = new Set(["completed", "failed"]);
  const $ = (id) => document.getElementById(id);
  const pending = new Map();
  let nextId = 1;
  let job = null;
  let torn = false;
  let polling = false;

  function send(message) {
    window.parent.postMessage({ jsonrpc: "2.0", ...message }, "*");
  }
  function request(method, params) {
    const id = nextId++;
    send({ id, method, params });
    return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
  }
  function notify(method, params) {
    send({ method, params });
  }

  window.addEventListener("message", (event) => {
    if (event.source !== window.parent) return;
    const message = event.data;
    if (!message || message.jsonrpc !== "2.0") return;
    if (message.method === undefined) {
      const waiter = pending.get(message.id);
      if (!waiter) return;
      pending.delete(message.id);
      if (message.error) waiter.reject(new Error(message.error.message));
      else waiter.resolve(message.result);
      return;
    }
    switch (message.method) {
      case "ui/notifications/tool-input":
        showInput(message.params?.arguments ?? {});
        break;
      case "ui/notifications/tool-result":
        showResult(message.params ?? {});
        break;
      case "ui/notifications/host-context-changed":
        applyContext(message.params ?? {});
        break;
      case "ui/notifications/tool-cancelled":
        setStatus("The call was cancelled. The job keeps running on kie.ai.");
        break;
      case "ui/resource-teardown":
        torn = true;
        send({ id: message.id, result: {} });
        break;
      default:
        if (message.id !== undefined) {
          send({ id: message.id, error: { code: -32601, message: "Method not found" } });
        }
    }
  });

  function applyContext(context) {
    if (context.theme === "light" || context.theme === "dark") {
      document.documentElement.dataset.theme = context.theme;
    }
  }

  function setStatus(text) {
    $("status").textContent = text;
  }

  function showError(text) {
    const box = $("error");
    box.textContent = text;
    box.hidden = !text;
  }

  function textOf(result) {
    return (result.content ?? [])
      .filter((block) => block.type === "text")
      .map((block) => block.text)
      .join("\n");
  }

  function showInput(args) {
    if (typeof args.prompt === "string") {
      $("head").hidden = false;
      $("prompt").textContent = args.prompt;
      setStatus("Starting…");
    }
  }

  function showResult(result) {
    $("app").setAttribute("aria-busy", "false");
    if (result.isError) {
      setStatus("The call failed.");
      showError(textOf(result).replace(/^Error executing tool \w+: /, ""));
      return;
    }
    const data = result.structuredContent;
    if (data && Array.isArray(data.items)) showLibrary(data);
    else if (data && data.job_id) showJob(data);
    else setStatus(textOf(result));
  }

  function statusLine(current) {
    const kind = current.kind.charAt(0).toUpperCase() + current.kind.slice(1);
    if (current.status === "completed") return `${kind} ready.`;
    if (current.status === "failed") return `${kind} failed.`;
    const provider = current.provider_state ? ` (kie.ai: ${current.provider_state})` : "";
    return `${kind} ${current.status}${provider}…`;
  }

  function showJob(current) {
    render(current);
    if (!TERMINAL.has(current.status)) follow(current.job_id);
  }

  function render(current) {
    job = current;
    $("library").hidden = true;
    $("head").hidden = false;
    $("prompt").textContent = current.prompt;
    const cost = current.credits ?? current.expected_credits;
    const credits = cost == null ? "" : ` · ${cost} credits${current.credits == null ? " (expected)" : ""}`;
    $("facts").textContent = `${current.model}${credits}`;
    $("app").dataset.status = current.status;
    setStatus(statusLine(current));
    showError(current.status === "failed" ? current.error?.message ?? "Unknown error" : "");
    const done = current.status === "completed";
    $("actions").hidden = !done;
    $("variations").hidden = current.kind !== "image";
    $("extend").hidden = current.kind !== "video";
    $("upscale").hidden = current.kind === "audio";
    $("open-gallery").hidden = !(current.outputs[0] && current.outputs[0].url);
    if (done) showMedia(current);
    else $("media").replaceChildren();
  }

  async function follow(jobId) {
    if (polling) return;
    polling = true;
    try {
      while (!torn && job && job.job_id === jobId && !TERMINAL.has(job.status)) {
        const result = await request("tools/call", {
          name: "get_status",
          arguments: { job_id: jobId, wait_seconds: 3 },
        });
        if (result.isError) {
          showError(textOf(result));
          return;
        }
        if (job && job.job_id === jobId) render(result.structuredContent);
      }
    } catch (error) {
      showError(`Could not ask for the status: ${error.message}`);
    } finally {
      polling = false;
    }
  }

  async function dataUrl(uri) {
    const result = await request("resources/read", { uri });
    const [contents] = result.contents;
    if (contents.blob === undefined) throw new Error("not a file");
    return `data:${contents.mimeType};base64,${contents.blob}`;
  }

  async function showMedia(current) {
    const area = $("media");
    area.replaceChildren();
    for (const output of current.outputs) {
      const figure = document.createElement("figure");
      const kind = output.mime_type.split("/")[0];
      const element = document.createElement(
        kind === "video" ? "video" : kind === "audio" ? "audio" : "img",
      );
      element.dataset.assetId = output.asset_id;
      if (kind === "image") {
        element.alt = current.prompt;
        if (output.width && output.height) {
          element.width = output.width;
          element.height = output.height;
        }
      } else {
        element.controls = true;
        element.preload = "metadata";
        element.setAttribute("aria-label", `${kind}: ${current.prompt}`);
      }
      const caption = document.createElement("figcaption");
      const size = output.width ? `${output.width}×${output.height}` : "";
      const length = output.duration_seconds ? ` · ${output.duration_seconds} s` : "";
      caption.textContent = `${size}${length}`;
      figure.append(element, caption);
      area.append(figure);
      try {
        element.src = await dataUrl(output.uri);
      } catch (error) {
        if (output.url) element.src = output.url;
        else caption.textContent = `Cannot show this file here: ${error.message}`;
      }
    }
  }

  function showLibrary(page) {
    job = null;
    $("head").hidden = true;
    $("actions").hidden = true;
    $("media").replaceChildren();
    showError("");
    $("library").hidden = false;
    $("library-title").textContent = `Library (${page.count})`;
    setStatus(page.next_cursor ? "More results: ask for the next page." : "");
    const grid = $("grid");
    grid.replaceChildren();
    for (const item of page.items) {
      const entry = document.createElement("li");
      const open = document.createElement("button");
      open.type = "button";
      open.setAttribute("aria-label", `${item.kind}: ${item.prompt} (${item.status})`);
      const label = document.createElement("span");
      label.textContent = item.prompt;
      const state = document.createElement("span");
      state.textContent = `${item.kind} · ${item.status}`;
      const first = item.outputs[0];
      if (first && first.thumbnail_url) {
        const thumb = document.createElement("img");
        thumb.alt = "";
        open.append(thumb);
        dataUrl(`${first.uri}/thumbnail`).then((url) => (thumb.src = url), () => thumb.remove());
      }
      open.append(label, state);
      open.addEventListener("click", () => showJob(item));
      entry.append(open);
      grid.append(entry);
    }
  }

  $("open-gallery").addEventListener("click", () => {
    const url = job && job.outputs[0] && job.outputs[0].url;
    if (url) request("ui/open-link", { url: new URL("/", url).href }).catch(() => {});
  });
  $("download").addEventListener("click", () => {
    if (!job) return;
    const contents = job.outputs.map((output) => ({
      type: "resource_link",
      uri: output.uri,
      name: output.path.split("/").pop(),
      mimeType: output.mime_type,
    }));
    request("ui/download-file", { contents }).catch((error) => showError(error.message));
  });
  // An action starts a new paid job through the server's tools; the view then follows it.
  async function act(button, starting, name, args) {
    if (!job) return;
    button.disabled = true;
    setStatus(starting);
    try {
      showResult(await request("tools/call", { name, arguments: args }));
    } catch (error) {
      showError(error.message);
    } finally {
      button.disabled = false;
    }
  }
  $("variations").addEventListener("click", () =>
    act($("variations"), "Starting a variation…", "generate_image", {
      prompt: job.prompt,
      model: job.model,
      client_ref: "variations",
    }),
  );
  $("extend").addEventListener("click", () =>
    act($("extend"), "Extending the video…", "transform_media", {
      source: job.job_id,
      operation: "extend",
      client_ref: "viewer",
    }),
  );
  $("upscale").addEventListener("click", () =>
    act($("upscale"), `Upscaling the ${job.kind}…`, "transform_media", {
      source: job.job_id,
      operation: "upscale",
      client_ref: "viewer",
    }),
  );

  new ResizeObserver(() => {
    const box = document.documentElement.getBoundingClientRect();
    notify("ui/notifications/size-changed", {
      width: Math.ceil(box.width),
      height: Math.ceil(box.height),
    });
  }).observe(document.documentElement);

  request("ui/initialize", {
    appInfo: { name: "mcp-server-kie viewer", version: "1.0.0" },
    appCapabilities: { availableDisplayModes: ["inline"] },
    protocolVersion: PROTOCOL,
  }).then((result) => {
    applyContext(result.hostContext ?? {});
    notify("ui/notifications/initialized", {});
  }, (error) => showError(`The host did not start the viewer: ${error.message}`));
})();
