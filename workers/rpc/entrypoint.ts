/**
 * `FlareMQ`: flaremq's Workers RPC entrypoint, exported by workers/main.ts. Another Worker of
 * the same Cloudflare account binds to it with a service binding
 * (`services = [{ binding = "MQ", service = "flaremq", entrypoint = "FlareMQ", props = { account = "..." } }]`)
 * and calls `env.MQ.send(...)`, `env.MQ.receive(...)`, ... as typed by FlareMQService
 * (protocol/worker-rpc.ts), with no HTTP and no request signing. Every call acts as the
 * account the binding's props name (binding-account.ts). A refusal crosses RPC as
 * `[CODE] message` (cluster/rpc-errors.ts), which the caller reads with `mqErrorFromRpc`.
 *
 * Every public method of this class is callable by any bound Worker, so the class has only the
 * calls of the contract; helpers live in modules, and the work in calls.ts.
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import { isMQError } from "../../protocol/errors.js";
import type { SendResult } from "../../protocol/message.js";
import type {
  FlareMQBindingProps,
  FlareMQService,
  WorkerAckResult,
  WorkerMessage,
  WorkerReceivedMessage,
  WorkerReceiveRequest,
} from "../../protocol/worker-rpc.js";
import type { Env } from "../../cluster/env.js";
import { toRpcError } from "../../cluster/rpc-errors.js";
import type { StoredAccount } from "../../durable-objects/accounts.js";
import { bindingAccount } from "./binding-account.js";
import { ackMessages, changeInvisibleDuration, receiveMessages, sendMessages } from "./calls.js";

/** Runs a call as the binding's account; any failure leaves as a coded error. */
async function asAccount<T>(env: Env, props: unknown, call: (account: StoredAccount) => Promise<T>): Promise<T> {
  try {
    return await call(await bindingAccount(env, props));
  } catch (e) {
    if (isMQError(e)) {
      if (e.status >= 500) console.error(`[rpc] ${e.code}: ${e.message}`, e.cause ?? "");
      throw toRpcError(e.code, e.message);
    }
    console.error("[rpc] unhandled", e);
    throw toRpcError("INTERNAL_ERROR", "internal error");
  }
}

export class FlareMQ extends WorkerEntrypoint<Env, Partial<FlareMQBindingProps>> implements FlareMQService {
  send(message: WorkerMessage): Promise<SendResult> {
    return asAccount(this.env, this.ctx.props, (account) => sendMessages(this.env, account, [message]));
  }

  sendBatch(messages: WorkerMessage[]): Promise<SendResult> {
    return asAccount(this.env, this.ctx.props, (account) => sendMessages(this.env, account, messages));
  }

  sendOrderly(message: WorkerMessage, shardingKey: string): Promise<SendResult> {
    return asAccount(this.env, this.ctx.props, (account) => sendMessages(this.env, account, [message], shardingKey ?? ""));
  }

  receive(request: WorkerReceiveRequest): Promise<WorkerReceivedMessage[]> {
    return asAccount(this.env, this.ctx.props, (account) => receiveMessages(this.env, account, request));
  }

  ack(group: string, receiptHandles: string[]): Promise<WorkerAckResult[]> {
    return asAccount(this.env, this.ctx.props, (account) => ackMessages(this.env, account, group, receiptHandles));
  }

  changeInvisibleDuration(group: string, receiptHandle: string, invisibleDurationMs: number): Promise<{ receiptHandle: string; invisibleUntil: number }> {
    return asAccount(this.env, this.ctx.props, (account) => changeInvisibleDuration(this.env, account, group, receiptHandle, invisibleDurationMs));
  }
}
