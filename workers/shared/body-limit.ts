/**
 * Request size cap at the edge. Hono's bodyLimit answers 413 without reading an oversized
 * body, and the connection is then reset while the client is still writing, so the client
 * never sees the 413. Here a moderately oversized body is read and discarded first (up to
 * `drainMaxBytes`), so the client gets a clean JSON error; beyond that the socket is dropped.
 */
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { AppEnv } from "./app-env.js";

export function requestSizeLimit(maxBytes: number, drainMaxBytes: number = maxBytes * 4): MiddlewareHandler<AppEnv> {
  const tooLarge = (c: Parameters<MiddlewareHandler<AppEnv>>[0]) =>
    c.json({ code: "REQUEST_TOO_LARGE", message: `request body is larger than ${maxBytes} bytes`, requestId: c.get("requestId") }, 413);
  const streaming = bodyLimit({ maxSize: maxBytes, onError: tooLarge });
  return async (c, next) => {
    const declared = Number(c.req.header("content-length") ?? "NaN");
    if (Number.isFinite(declared) && declared > maxBytes) {
      if (declared <= drainMaxBytes && c.req.raw.body) {
        const reader = c.req.raw.body.getReader();
        while (!(await reader.read()).done) {
          // discard
        }
      }
      return tooLarge(c);
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
