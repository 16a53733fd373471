/** Keys whose values are credentials: never logged, never printed. */
const SECRET_KEY = /pass(word)?|secret|token|authorization|api[-_]?key|credential/i;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}
