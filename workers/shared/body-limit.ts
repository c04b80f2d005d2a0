/**
 * Request size cap at the edge. Hono's bodyLimit answers 413 without reading an oversized
 * body, and the connection is then reset while the client is still writing, so the client
 * never sees the 413. Here a moderately oversized body is read and discarded first (up to
 * `drainMaxBytes`), so the client gets a clean JSON error; beyond that the socket is dropped.
 *
 * The refusal names the limit the sender broke: a send whose read-and-discarded request holds a
 * body over the message body limit (a 5 MiB body is a 6.7 MiB request in base64), or bodies over
 * the per-send limit, is refused with MESSAGE_BODY_TOO_LARGE, measured as it streams past
 * (send-body-sizes.ts); only a request whose bodies are within theirs gets REQUEST_TOO_LARGE.
 */
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { MQError } from "../../protocol/errors.js";
import { bodiesTooLarge, bodyTooLarge, requestTooLarge } from "../../protocol/size-refusals.js";
import type { AppEnv } from "./app-env.js";
import { BodySizeScanner, brokenBodyLimit } from "./send-body-sizes.js";

export function requestSizeLimit(maxBytes: number, drainMaxBytes: number = maxBytes * 4): MiddlewareHandler<AppEnv> {
  const refuse = (c: Context<AppEnv>, e: MQError) => c.json({ ...e.toJSON(), requestId: c.get("requestId") }, 413);
  const tooLarge = (c: Context<AppEnv>) => refuse(c, requestTooLarge(undefined, maxBytes));
  const streaming = bodyLimit({ maxSize: maxBytes, onError: tooLarge });
  return async (c, next) => {
    const declared = Number(c.req.header("content-length") ?? "NaN");
    if (Number.isFinite(declared) && declared > maxBytes) {
      // Only sends carry message bodies worth measuring.
      const sizes = c.req.method === "POST" && c.req.path.endsWith("/messages") ? new BodySizeScanner() : undefined;
      if (declared <= drainMaxBytes && c.req.raw.body) {
        const reader = (c.req.raw.body as ReadableStream<Uint8Array>).getReader();
        for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) sizes?.push(chunk.value);
      }
      const measured = sizes?.result();
      const broken = measured ? brokenBodyLimit(measured) : null;
      if (measured && broken === "body") return refuse(c, bodyTooLarge(measured.largest, measured.count > 1 ? measured.largestIndex : undefined));
      if (measured && broken === "bodies") return refuse(c, bodiesTooLarge(measured.total));
      return refuse(c, requestTooLarge(declared, maxBytes));
    }
    const response = await streaming(c, next);
    await drainUnread(c.req.raw);
    return response;
  };
}

/**
 * workerd closes a keep-alive connection whose request body the Worker answered without
 * reading (a 404, or a 4xx found before the body was parsed), without saying so, and a client
 * that sends its next request on that connection gets a reset instead of an answer. Reading
 * the rest (at most `maxBytes`: larger bodies were refused above) keeps the connection usable.
 */
async function drainUnread(request: Request): Promise<void> {
  const body = request.body;
  if (!body || request.bodyUsed || body.locked) return;
  try {
    const reader = body.getReader();
    while (!(await reader.read()).done) {
      // discard
    }
  } catch {
    // The client went away: nothing to keep.
  }
}
