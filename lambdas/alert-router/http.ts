/**
 * JSON POST with retries: exponential backoff on 429, 5xx and network errors, honouring Retry-After (seconds or an
 * HTTP date, capped at MAX_RETRY_AFTER_MS); any other 4xx is permanent. After the last attempt it throws a
 * DeliveryError naming the target, the status and the response text (the router then fails the invocation so the
 * alert ends in the dead-letter queue).
 */

export type FetchFn = (
  url: string,
  init: { method: string; headers: Record<string, string>; body: string },
) => Promise<{
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}>;

export interface RetryPolicy {
  /** Attempts, the first included (>= 1). */
  readonly maxAttempts: number;
  /** Delay before the second attempt (ms); doubles each attempt. */
  readonly baseDelayMs: number;
}

/** Longest Retry-After honoured (ms): a longer one would outlive the invocation; the backoff is used instead. */
export const MAX_RETRY_AFTER_MS = 30_000;

export class DeliveryError extends Error {
  override readonly name = 'AlertDeliveryError';
  constructor(
    readonly target: string,
    readonly status: number | undefined,
    readonly permanent: boolean,
    message: string,
  ) {
    super(message);
  }
}

export interface PostOptions {
  readonly fetch: FetchFn;
  readonly retry: RetryPolicy;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Called before each retry (logging). */
  readonly onRetry?: (info: { target: string; attempt: number; delayMs: number; reason: string }) => void;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Milliseconds a Retry-After header asks for; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * POSTs body as JSON to url; resolves with the status and text of the first response that is neither 429 nor 5xx
 * when it is 2xx. `target` names the destination in errors (never the URL: a Slack webhook URL is a secret).
 */
export async function postJson(
  target: string,
  url: string,
  body: unknown,
  options: PostOptions,
): Promise<{ status: number; text: string }> {
  const { fetch, retry } = options;
  const sleep = options.sleep ?? defaultSleep;
  const attempts = Math.max(1, Math.floor(retry.maxAttempts));
  let last = '';
  let lastStatus: number | undefined;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    let hint: number | undefined;
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const text = await response.text();
      if (response.status >= 200 && response.status < 300) return { status: response.status, text };
      lastStatus = response.status;
      last = `HTTP ${response.status}: ${text.slice(0, 500)}`;
      if (response.status !== 429 && response.status < 500) {
        throw new DeliveryError(target, response.status, true, `${target}: permanent failure, ${last}`);
      }
      hint = retryAfterMs(response.headers.get('retry-after'));
    } catch (err) {
      if (err instanceof DeliveryError) throw err;
      lastStatus = undefined;
      last = `network error: ${(err as Error).message}`;
    }
    if (attempt < attempts) {
      const backoff = retry.baseDelayMs * 2 ** (attempt - 1);
      const delayMs = hint !== undefined && hint <= MAX_RETRY_AFTER_MS ? Math.max(hint, 0) : backoff;
      options.onRetry?.({ target, attempt, delayMs, reason: last });
      await sleep(delayMs);
    }
  }
  throw new DeliveryError(target, lastStatus, false, `${target}: failed after ${attempts} attempts, last ${last}`);
}
