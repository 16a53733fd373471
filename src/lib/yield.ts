/**
 * Lets the event loop run whatever is waiting (requests of the host application, timers) before going on.
 * The collection cycle yields between its phases so that no single stretch of it blocks the loop for long.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
