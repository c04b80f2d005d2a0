/**
 * Headless Chromium for the end-to-end tests that drive the dashboard: Debian's
 * /usr/bin/chromium (or CHROMIUM_PATH) through playwright-core, in a profile of its own that is
 * deleted when the browser closes. One browser per test file, opened in a `beforeAll`; a test
 * opens its page with newPage(), and an `afterEach` closes it and expects no problems:
 *
 *   afterEach(async () => expect(await browser.closePage(), "uncaught errors in the page").toEqual([]));
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** No sandbox (containers), nothing from the network but the pages a test opens. */
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** The selector of an element by its `data-testid`. */
export const byTestId = (id: string): string => `[data-testid="${id}"]`;

/** How long a page waits for an element by default (a loaded machine misses playwright's shorter waits). */
const PAGE_WAIT_MS = 10_000;

export interface TestBrowser {
  context: BrowserContext;
  /** A new page, now the test's page: its uncaught errors are kept in `problems`. */
  newPage(): Promise<Page>;
  /** What the test's page reported: its uncaught errors, and what the test adds (CSP violations, say). */
  readonly problems: string[];
  /** Closes the test's page and returns its problems, for an afterEach to expect none. */
  closePage(): Promise<string[]>;
  /** Closes the browser and deletes its profile. */
  close(): Promise<void>;
}

/**
 * Starts Chromium with a fresh profile in a temporary folder named after `name`; fails with
 * how to install it when it is missing, and with Chromium's own words when it does not start.
 */
export async function launchChromium(name: string, options: { viewport?: { width: number; height: number } } = {}): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}: the dashboard tests need it. Install it with \`apt-get install -y chromium\` ` +
        `(.ci/run does so when it is missing) or point CHROMIUM_PATH at a Chromium binary.`,
    );
  }
  const userDataDir = await mkdtemp(path.join(os.tmpdir(), `flaremq-chromium-${name}-`));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      ...(options.viewport ? { viewport: options.viewport } : {}),
    });
  } catch (e) {
    await rm(userDataDir, { recursive: true, force: true });
    throw new Error(`Chromium at ${CHROMIUM} failed to start: ${e instanceof Error ? e.message : String(e)}`);
  }
  let page: Page | undefined;
  let problems: string[] = [];
  return {
    context,
    get problems() {
      return problems;
    },
    newPage: async () => {
      const p = await context.newPage();
      page = p;
      const seen: string[] = (problems = []);
      p.on("pageerror", (e) => seen.push(e.message));
      p.setDefaultTimeout(PAGE_WAIT_MS);
      return p;
    },
    closePage: async () => {
      const seen = problems;
      problems = [];
      await page?.close();
      page = undefined;
      return seen;
    },
    close: async () => {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}
