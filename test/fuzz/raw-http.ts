/**
 * A raw HTTP/1.1 client for fuzzing: sends the request target byte for byte (no URL
 * normalisation, unlike fetch), any method, any headers, any body, over keep-alive sockets.
 */
import http from "node:http";
import net from "node:net";

export interface RawRequest {
  method: string;
  /** Path and query as they go on the request line (characters U+0021..U+00FF). */
  target: string;
  headers?: Record<string, string>;
  body?: Buffer;
}

export interface RawResponse {
  status: number;
  contentType: string;
  text: string;
  /** Set when no complete answer arrived (socket error, parse error, timeout). */
  error?: string;
}

export class RawHttpClient {
  private readonly agent: http.Agent;

  constructor(
    private readonly host: string,
    private readonly port: number,
    maxSockets = 16,
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets });
  }

  send(req: RawRequest, timeoutMs = 30_000): Promise<RawResponse> {
    if (req.method === "HEAD") return this.head(req, timeoutMs);
    return new Promise<RawResponse>((resolve) => {
      let settled = false;
      const done = (r: RawResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(r);
      };
      const headers: Record<string, string | number> = { ...(req.headers ?? {}) };
      if (req.body !== undefined) headers["content-length"] = req.body.length;
      const outgoing = http.request({ host: this.host, port: this.port, method: req.method, path: req.target, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          done({ status: res.statusCode ?? 0, contentType: String(res.headers["content-type"] ?? ""), text: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", (e) => done({ status: res.statusCode ?? 0, contentType: "", text: "", error: String(e) }));
      });
      const timer = setTimeout(() => {
        outgoing.destroy(new Error(`no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      outgoing.on("error", (e) => done({ status: 0, contentType: "", text: "", error: String(e) }));
      outgoing.end(req.body);
    });
  }

  /**
   * HEAD over a fresh socket, reading the status line and headers only: workerd answers HEAD
   * without Content-Length, which Node's keep-alive parser does not accept.
   */
  private head(req: RawRequest, timeoutMs: number): Promise<RawResponse> {
    return new Promise<RawResponse>((resolve) => {
      const socket = net.connect(this.port, this.host);
      let data = "";
      let settled = false;
      const done = (r: RawResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        resolve(r);
      };
      const timer = setTimeout(() => done({ status: 0, contentType: "", text: "", error: `no answer within ${timeoutMs} ms` }), timeoutMs);
      socket.on("connect", () => {
        const lines = [`HEAD ${req.target} HTTP/1.1`, `Host: ${this.host}:${this.port}`];
        for (const [k, v] of Object.entries(req.headers ?? {})) lines.push(`${k}: ${v}`);
        socket.write(Buffer.from(lines.join("\r\n") + "\r\n\r\n", "latin1"));
      });
      socket.on("data", (chunk: Buffer) => {
        data += chunk.toString("latin1");
        const end = data.indexOf("\r\n\r\n");
        if (end === -1) return;
        const head = data.slice(0, end).split("\r\n");
        const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head[0] ?? "")?.[1] ?? 0);
        const type = head.find((h) => /^content-type:/i.test(h))?.replace(/^content-type:\s*/i, "") ?? "";
        done({ status, contentType: type, text: "" });
      });
      socket.on("error", (e) => done({ status: 0, contentType: "", text: "", error: String(e) }));
      socket.on("end", () => done({ status: 0, contentType: "", text: "", error: "connection closed before an answer" }));
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
