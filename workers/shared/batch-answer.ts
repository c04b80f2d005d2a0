/**
 * The answer to a request for a batch of messages (a pull, a POP receive): framed
 * (protocol/framed-messages.ts) when the request's Accept asks for it, else JSON. The form
 * follows Accept, so the answer says Vary: Accept and no cache serves one form for the other.
 */
import type { Context } from "hono";
import { acceptsFramed, FRAMED_MEDIA_TYPE } from "../../protocol/framed-messages.js";
import type { AppEnv } from "./app-env.js";

export function batchAnswer(c: Context<AppEnv>, forms: { framed: () => Uint8Array<ArrayBuffer>; json: () => object }): Response {
  c.header("vary", "accept");
  if (acceptsFramed(c.req.header("accept"))) return c.body(forms.framed(), 200, { "content-type": FRAMED_MEDIA_TYPE });
  return c.json(forms.json());
}
