// A throwaway stand-in for the OpenWatch server, for checking e2e/signin.mjs without Go:
// it serves dist/ and fakes POST /api/v1/auth/login and GET /api/v1/auth/me with an
// HttpOnly session cookie. It listens on 127.0.0.1 only.
//
//   npm run build && node e2e/mock-server.mjs            # plain HTTP on a free port
//   MOCK_TLS_CERT=leaf.pem MOCK_TLS_KEY=leaf.key node e2e/mock-server.mjs   # HTTPS
//
// MOCK_PORT picks the port (default: any free one); MOCK_USER / MOCK_PASSWORD set the one
// account (default admin / admin-password). It prints its URL on the first line.
import { randomBytes, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import { dirname, extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const dist = join(dirname(fileURLToPath(import.meta.url)), "..", "dist");
const user = {
  id: randomUUID(),
  username: process.env.MOCK_USER ?? "admin",
  email: `${process.env.MOCK_USER ?? "admin"}@example.com`,
  role: "admin",
};
const password = process.env.MOCK_PASSWORD ?? "admin-password";
const sessions = new Set();
const tls = Boolean(process.env.MOCK_TLS_CERT && process.env.MOCK_TLS_KEY);

const types = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

function send(res, status, body, headers = {}) {
  res.writeHead(status, { "Content-Type": "application/json", "Cache-Control": "no-store", ...headers });
  res.end(JSON.stringify(body));
}

function fail(res, status, code, human_message) {
  send(res, status, {
    error: { code, fault: "client", retryable: false, human_message, correlation_id: randomBytes(8).toString("hex") },
  });
}

function session(req) {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const [k, v] = part.trim().split("=");
    if (k === "openwatch_session" && sessions.has(v)) return v;
  }
  return undefined;
}

async function api(req, res, path) {
  if (path === "/api/v1/auth/me" && req.method === "GET") {
    if (!session(req)) return fail(res, 401, "auth.required", "Sign in to continue.");
    return send(res, 200, user);
  }
  if (path === "/api/v1/auth/login" && req.method === "POST") {
    let raw = "";
    for await (const chunk of req) raw += chunk;
    let body;
    try {
      body = JSON.parse(raw);
    } catch {
      return fail(res, 400, "validation_failed", "The request body is not valid JSON.");
    }
    if (typeof body?.username !== "string" || typeof body?.password !== "string") {
      return fail(res, 400, "validation_failed", 'Fields "username" and "password" are required.');
    }
    if (body.otp !== undefined && !/^[0-9]{6}$/.test(body.otp)) {
      return fail(res, 400, "validation_failed", 'Field "otp" must be 6 digits.');
    }
    if (body.username !== user.username || body.password !== password) {
      return fail(res, 401, "auth.invalid_credentials", "The username or password is incorrect.");
    }
    const sid = randomBytes(24).toString("base64url");
    sessions.add(sid);
    const cookie = `openwatch_session=${sid}; Path=/; HttpOnly; SameSite=Lax${tls ? "; Secure" : ""}`;
    return send(res, 200, { access_token: "mock-access", refresh_token: "mock-refresh", user }, { "Set-Cookie": cookie });
  }
  return fail(res, 404, "route.not_found", `No route for ${req.method} ${path}.`);
}

async function handler(req, res) {
  const path = new URL(req.url ?? "/", "http://x").pathname;
  if (path.startsWith("/api/")) return api(req, res, path);
  const file = normalize(join(dist, path === "/" ? "index.html" : path));
  const inside = file.startsWith(dist + "/");
  try {
    if (!inside) throw new Error("outside dist");
    const data = await readFile(file);
    res.writeHead(200, { "Content-Type": types[extname(file)] ?? "application/octet-stream" });
    res.end(data);
  } catch {
    // SPA fallback, like the Go server.
    res.writeHead(200, { "Content-Type": types[".html"] });
    res.end(await readFile(join(dist, "index.html")));
  }
}

const server = tls
  ? https.createServer(
      { cert: readFileSync(process.env.MOCK_TLS_CERT), key: readFileSync(process.env.MOCK_TLS_KEY) },
      (req, res) => void handler(req, res).catch((e) => fail500(res, e)),
    )
  : http.createServer((req, res) => void handler(req, res).catch((e) => fail500(res, e)));

server.listen(Number(process.env.MOCK_PORT ?? 0), "127.0.0.1", () => {
  const { port } = server.address();
  console.log(`mock: listening on ${tls ? "https" : "http"}://127.0.0.1:${port}`);
});
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => server.close(() => process.exit(0)));

function fail500(res, err) {
  console.error("mock:", err);
  if (!res.headersSent) res.writeHead(500, { "Content-Type": "text/plain" });
  res.end("mock server error (is dist/ built?)\n");
}
