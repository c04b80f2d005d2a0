// Baselines measured in the same run as flaremq: a no-op Worker, a no-op Durable Object RPC,
// and one raw 1 KiB SQLite insert per request in a Durable Object.
import { DurableObject } from "cloudflare:workers";

export class NoopDO extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, data BLOB)");
  }
  noop() {
    return 1;
  }
  insert(bytes) {
    this.ctx.storage.sql.exec("INSERT INTO t (data) VALUES (?)", new Uint8Array(bytes));
    return 1;
  }
}

export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    if (pathname === "/noop") return new Response("{}");
    const stub = env.NOOP.get(env.NOOP.idFromName("bench"));
    if (pathname === "/do") return Response.json(await stub.noop());
    if (pathname === "/sqlite") {
      const body = await request.arrayBuffer();
      return Response.json(await stub.insert(body.byteLength));
    }
    return new Response("not found", { status: 404 });
  },
};
