// The watchdog's HTTP endpoint: /metrics (Prometheus text, open: counts and states, no fence details) and
// /status (the status document: every server, guest and fence event). With a token, /status answers only
// `Authorization: Bearer <token>` (RFC 6750); the config requires one when listening beyond loopback.
import { createHash, timingSafeEqual } from "crypto";
import * as http from "http";

export interface EndpointHandlers {
  metrics: () => Promise<{ contentType: string; text: string }>;
  /** The status document (a promise: a standby reads it from etcd). */
  status: () => unknown;
}

export interface EndpointOptions {
  port: number;
  host: string;
  /** When set, /status requires this bearer token. */
  statusToken?: string;
}

const digest = (s: string) => createHash("sha256").update(s).digest();

/** Constant-time comparison of the presented bearer token with the expected one. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer +([^\s]+)\s*$/i.exec(header ?? "");
  return m !== null && timingSafeEqual(digest(m[1]), digest(token));
}

export function serveEndpoint(opts: EndpointOptions, handlers: EndpointHandlers): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer((req, res) => {
    const url = (req.url ?? "").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" });
      res.end("only GET\n");
    } else if (url === "/metrics") {
      handlers.metrics().then(
        (m) => {
          res.writeHead(200, { "content-type": m.contentType });
          res.end(m.text);
        },
        (e: Error) => {
          res.writeHead(500);
          res.end(e.message);
        },
      );
    } else if (url === "/status") {
      if (opts.statusToken !== undefined && !bearerMatches(req.headers.authorization, opts.statusToken)) {
        const why = req.headers.authorization ? "invalid_token" : "invalid_request";
        res.writeHead(401, { "www-authenticate": `Bearer realm="ovm-ha", error="${why}"`, "content-type": "text/plain" });
        res.end("401: /status needs Authorization: Bearer <the token in metrics.statusTokenFile>\n");
        return;
      }
      Promise.resolve()
        .then(() => handlers.status())
        .then(
          (doc) => {
            res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
            res.end(JSON.stringify(doc));
          },
          (e: Error) => {
            res.writeHead(500, { "content-type": "text/plain" });
            res.end(`status unavailable: ${e.message}\n`);
          },
        );
    } else {
      res.writeHead(404);
      res.end("not found: try /metrics or /status\n");
    }
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => resolve({ server, port: (server.address() as { port: number }).port }));
  });
}
