import { AgentError } from '../../lib/errors.js';
import type { AgentErrorOptions } from '../../lib/errors.js';

/**
 * A failed delivery. `permanent` means retrying cannot help (the receiver rejected the request as malformed,
 * HTTP 4xx other than 408/429): the dispatcher then drops the notification instead of retrying it forever.
 */
export class NotifyError extends AgentError {
  readonly permanent: boolean;

  constructor(message: string, permanent: boolean, options: AgentErrorOptions = {}) {
    super('E_NOTIFY', message, options);
    this.permanent = permanent;
  }
}

/** Whether an HTTP status means the request will never succeed as it is. */
export function permanentHttpStatus(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}
