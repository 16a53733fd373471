/**
 * The agent's state files (notification store, trend history, alert state, its log files) hold alert
 * contents, label values and sometimes credentials in errors: they are created 0600, in directories the
 * agent creates 0700, and a temporary file is always a new file (O_EXCL: never an existing file, never the
 * target of a symlink planted at its name). Existing files and directories keep the modes they have.
 */
import fs from 'node:fs';

export const PRIVATE_FILE_MODE = 0o600;
const PRIVATE_DIR_MODE = 0o700;

const { O_WRONLY, O_CREAT, O_EXCL, O_APPEND } = fs.constants;
const O_NOFOLLOW = fs.constants.O_NOFOLLOW ?? 0;

/** Flags for a temporary file: created here and now, or an error (EEXIST). */
export const NEW_FILE_FLAGS = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW;

/** Flags for appending to a log file, created 0600 when missing. */
export const APPEND_FILE_FLAGS = O_WRONLY | O_CREAT | O_APPEND;

/** Creates `dir` and its missing parents 0700. */
export function ensurePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
}

export async function ensurePrivateDirAsync(dir: string): Promise<void> {
  await fs.promises.mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
}

/**
 * Creates `file` empty and 0600 unless it exists, so that a program that creates its own files next to it
 * (SQLite's -wal, -shm and -journal copy the database file's mode) makes them 0600 too.
 */
export function createPrivateFile(file: string): void {
  let fd: number;
  try {
    fd = fs.openSync(file, NEW_FILE_FLAGS, PRIVATE_FILE_MODE);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw err;
  }
  fs.closeSync(fd);
}
