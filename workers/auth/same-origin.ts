/**
 * The dashboard's session cookie is SameSite=Strict, but a browser's "site" ignores the port
 * (and a sibling subdomain can be same-site too): a page served on another port of the same
 * host is same-site, and the browser attaches the cookie to the requests it makes. So a
 * request that the cookie alone authenticates must come from a page of this origin, as the
 * Origin and Sec-Fetch-Site headers (set by the browser, not by the page) tell.
 */

/** Pages another page of the same site may link to: a navigation to them changes nothing. */
const PAGES: ReadonlySet<string> = new Set(["/dashboard", "/docs"]);
const SAFE_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS"]);

export interface CookieRequest {
  method: string;
  /** The path the router runs (percent-decoded). */
  path: string;
  /** This server's origin as the request addressed it (scheme, host and port). */
  origin: string;
  header(name: string): string | undefined;
}

/**
 * Why a cookie-authenticated request must be refused, or undefined when it came from this
 * origin. Unsafe methods must prove it (Origin or Sec-Fetch-Site); a safe one is refused
 * only when the browser says it came from elsewhere and is not a navigation to a page.
 */
export function crossOriginRefusal(req: CookieRequest): string | undefined {
  const origin = req.header("origin");
  const site = req.header("sec-fetch-site");
  const safe = SAFE_METHODS.has(req.method);
  if (origin !== undefined && origin !== req.origin) {
    // Browsers add Origin to same-origin GETs only in CORS mode, never with a foreign value.
    return `a request authenticated by the session cookie came from ${JSON.stringify(origin.slice(0, 100))}, not ${req.origin}`;
  }
  if (site !== undefined && site !== "same-origin" && site !== "none") {
    const pageNavigation = safe && req.header("sec-fetch-mode") === "navigate" && PAGES.has(req.path);
    if (!pageNavigation) return `a request authenticated by the session cookie came from a ${site} page, not from ${req.origin}`;
  }
  if (!safe && origin === undefined && site === undefined) {
    return "a state-changing request authenticated by the session cookie must carry Origin (browsers send it); other clients sign their requests or send the token as a Bearer header";
  }
  return undefined;
}
