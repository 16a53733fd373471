/**
 * One JSON POST with a time budget, mapping failures to transient or permanent NotifyErrors. Redirects are
 * followed only within the configured origin (307/308, at most 3): a redirect elsewhere would hand the
 * receiver's secret headers, signature and body to another server, so it is a permanent failure.
 */
import { errorMessage } from '../../lib/errors.js';
import { RedirectError, fetchSameOrigin } from '../../lib/fetch-same-origin.js';
import { redactUrl } from '../../lib/redact-url.js';
import { NotifyError, permanentHttpStatus } from './notify-error.js';

export async function postJson(
  url: string,
  body: string,
  headers: Readonly<Record<string, string>>,
  timeoutMs: number,
): Promise<void> {
  let res: Response;
  try {
    res = await fetchSameOrigin(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    if (err instanceof RedirectError) throw new NotifyError(err.message, true, { cause: err });
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
    throw new NotifyError(`POST ${redactUrl(url)} failed: ${errorMessage(err)}${cause}`, false, {
      cause: err,
    });
  }
  // The status decides; the body only adds detail to an error, so one that cannot be read is left out.
  const text = await res.text().catch(() => '');
  if (res.status >= 200 && res.status < 300) return;
  throw new NotifyError(
    `POST ${redactUrl(url)} answered ${res.status}${text === '' ? '' : `: ${text.trim().slice(0, 200)}`}`,
    permanentHttpStatus(res.status),
  );
}
