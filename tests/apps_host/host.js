// Test host for the MCP Apps viewer: the official host-side bridge (AppBridge) from
// @modelcontextprotocol/ext-apps, with an MCP client from @modelcontextprotocol/client talking
// to the real server over streamable HTTP. Bundled by esbuild (build.sh) into host.bundle.js.
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { AppBridge, PostMessageTransport } from "@modelcontextprotocol/ext-apps/app-bridge";

const APP_MIME = "text/html;profile=mcp-app";

// What a host enforces on the view: no network, inline code only, media from data: URLs.
const CSP =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; " +
  "img-src data: blob:; media-src data: blob:; connect-src 'none'; base-uri 'none'";

window.hostLog = [];

window.startHost = async ({ mcpUrl, tool, args, theme }) => {
  const client = new Client(
    { name: "apps-harness", version: "1.0.0" },
    { capabilities: { extensions: { "io.modelcontextprotocol/ui": { mimeTypes: [APP_MIME] } } } },
  );
  await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl)));
  const { tools } = await client.listTools();
  const found = tools.find((t) => t.name === tool);
  const uri = found?._meta?.ui?.resourceUri;
  if (!uri) throw new Error(`tool ${tool} has no _meta.ui.resourceUri`);
  const resource = await client.readResource({ uri });
  const [contents] = resource.contents;
  if (contents.mimeType !== APP_MIME) throw new Error(`served as ${contents.mimeType}`);

  const iframe = document.createElement("iframe");
  iframe.id = "view";
  iframe.title = "media viewer";
  iframe.setAttribute("sandbox", "allow-scripts");
  iframe.style.cssText = "width:720px;height:640px;border:0;display:block";
  document.getElementById("frame").append(iframe);

  const bridge = new AppBridge(
    client,
    { name: "apps-harness", version: "1.0.0" },
    { openLinks: {}, serverTools: {}, serverResources: {}, downloadFile: {} },
    { hostContext: { theme, displayMode: "inline" } },
  );
  bridge.onopenlink = async (params) => {
    window.hostLog.push({ openLink: params.url });
    return {};
  };
  bridge.ondownloadfile = async (params) => {
    window.hostLog.push({ download: params.contents });
    return {};
  };
  bridge.onsizechange = (params) => window.hostLog.push({ size: params });
  const initialized = new Promise((resolve) => {
    bridge.oninitialized = resolve;
  });
  await bridge.connect(new PostMessageTransport(iframe.contentWindow, iframe.contentWindow));
  const head = `<meta http-equiv="Content-Security-Policy" content="${CSP}">`;
  iframe.srcdoc = contents.text.replace("<head>", `<head>${head}`);
  await initialized;
  await bridge.sendToolInput({ arguments: args });
  const result = await client.callTool({ name: tool, arguments: args });
  await bridge.sendToolResult(result);
  window.bridge = bridge;
  window.setTheme = (next) => bridge.setHostContext({ theme: next, displayMode: "inline" });
  return result.structuredContent ?? null;
};
