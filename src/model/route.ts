/**
 * An HTTP route a component serves on the agent's endpoint. Components declare routes; the HTTP exposure
 * (src/export/http-server.ts) serves them, so a component needs no import of the server.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface Route {
  /** Exact path, or a prefix when it ends with `/*`. */
  path: string;
  handler: RouteHandler;
  /** One line for the landing page. */
  description: string;
  /** Served without authentication (health checks). */
  public?: boolean;
  /** Methods besides GET and HEAD this route accepts (e.g. POST, DELETE for an API); auth applies alike. */
  methods?: readonly ('POST' | 'DELETE')[];
}
