/** A URL fit for logs and pages: user name, password and query string (where tokens hide) removed. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}${u.search === '' ? '' : '?<redacted>'}`;
  } catch {
    return '<unparsable URL>';
  }
}
