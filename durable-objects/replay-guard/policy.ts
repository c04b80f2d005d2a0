/**
 * The replay guard's figures (see durable-objects/replay-guard.ts), apart from the object so
 * that end-to-end tests in Node can import them.
 */

/** Nonces one key keeps in memory (under 200 bytes each); beyond it the older half leaves and the floor rises. */
export const REPLAY_NONCES_PER_KEY = 50_000;
/** How far the stored ceiling runs ahead of the newest accepted date: at most one write per this much traffic. */
export const CEILING_STEP_MS = 1_000;
/** Dates further ahead of the object's clock get a row of their own instead of moving the ceiling. */
export const AHEAD_MS = 1_000;
